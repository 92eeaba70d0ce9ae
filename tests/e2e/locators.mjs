// Playwright's locators, the part the demo suite uses, for the engines that
// browsers.mjs drives without Playwright (Firefox, WebKit): elements are
// found in the page (CSS selectors, text, labels, roles), and waits poll
// there, with Playwright's rules: a locator is resolved anew each time, an
// action on one that matches several elements is an error (strict mode),
// actions wait until their element is visible, enabled and still, `waitFor`
// waits for the states `attached`, `detached`, `visible` and `hidden`.
// Clicks go through the engine's own input (puppeteer's, WebDriver's
// Element Click) at the element's centre, once nothing covers it there.
// An engine page offers `locatorQuery(query)` (runs `inPage` there) and
// `locatorClick(query)`; `withLocators` adds the API to its class.
import { setTimeout as sleep } from 'node:timers/promises';

const DEFAULT_TIMEOUT = 30_000;

/**
 * Runs in the page (self-contained: engines send its source): resolves
 * `query.steps` to elements and applies `query.op` to them. Answers
 * `{ count, value }`, `{ count, error }` (a mistake of the caller's, not to
 * wait out) or, for `op: 'element'`, the element itself.
 */
export function inPage(query) {
  const norm = (s) => (s ?? '').replace(/[\s\u200b]+/g, ' ').trim().toLowerCase();
  const text = (el) => {
    if (['SCRIPT', 'STYLE', 'NOSCRIPT'].includes(el.nodeName)) return '';
    if (el instanceof HTMLInputElement && ['submit', 'button', 'reset'].includes(el.type)) return el.value;
    let out = '';
    for (const child of el.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) out += child.nodeValue;
      else if (child.nodeType === Node.ELEMENT_NODE) out += text(child);
    }
    return out;
  };
  const visible = (el) => {
    const style = getComputedStyle(el);
    if (style.display === 'contents') return [...el.children].some(visible);
    if ((el.checkVisibility && !el.checkVisibility()) || style.visibility !== 'visible') return false;
    const rect = el.getBoundingClientRect();
    return rect.width > 0 && rect.height > 0;
  };
  const hiddenForAria = (el) => {
    for (let e = el; e; e = e.parentElement) if (e.getAttribute('aria-hidden') === 'true') return true;
    return !(el.checkVisibility ? el.checkVisibility({ visibilityProperty: true }) : visible(el));
  };
  const labels = (el) => {
    const out = [];
    const by = el.getAttribute('aria-labelledby');
    if (by) out.push(by.split(/\s+/).map((id) => text(document.getElementById(id) ?? document.createElement('b'))).join(' '));
    if (el.getAttribute('aria-label')) out.push(el.getAttribute('aria-label'));
    for (const label of el.labels ?? []) out.push(text(label));
    return out;
  };
  const role = (el) => {
    const explicit = el.getAttribute('role')?.trim().split(/\s+/)[0];
    if (explicit) return explicit;
    if (el.nodeName === 'BUTTON') return 'button';
    if (el.nodeName === 'INPUT' && ['button', 'submit', 'reset', 'image'].includes(el.type)) return 'button';
    return null;
  };
  const name = (el) => labels(el).find((l) => norm(l)) ?? (text(el) || el.getAttribute('title') || '');
  const order = (a, b) => (a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1);
  const within = (root, sel) => [...(root ?? document).querySelectorAll(sel)];
  const resolve = (steps, roots) => {
    let found = roots;
    for (const step of steps) {
      const scopes = found;
      if (step.css !== undefined) found = scopes.flatMap((r) => within(r, step.css));
      else if (step.label !== undefined) found = scopes.flatMap((r) => within(r, '*')).filter((e) => labels(e).some((l) => norm(l).includes(norm(step.label))));
      else if (step.role !== undefined) {
        found = scopes.flatMap((r) => within(r, '*'))
          .filter((e) => role(e) === step.role && !hiddenForAria(e) && (step.name === undefined || norm(name(e)).includes(norm(step.name))));
      } else if (step.hasText !== undefined) found = scopes.filter((e) => norm(text(e)).includes(norm(step.hasText)));
      else if (step.has !== undefined) found = scopes.filter((e) => resolve(step.has, [e]).length > 0);
      else if (step.last) found = scopes.slice(-1);
      if (step.css !== undefined || step.label !== undefined || step.role !== undefined) found = [...new Set(found)].sort(order);
    }
    return found;
  };
  const all = resolve(query.steps, [null]);
  const count = all.length;
  if (query.op === 'count') return { count, value: count };
  const el = all[0];
  if (query.op === 'state') return { count, value: { attached: Boolean(el), visible: Boolean(el) && visible(el) } };
  if (count > 1) return { count, error: `strict mode violation: ${query.description} resolved to ${count} elements` };
  if (query.op === 'element') return el ?? null;
  if (!el) return { count, value: undefined };
  const arg = query.arg;
  const checked = () => {
    if (el.nodeName === 'INPUT' && ['checkbox', 'radio'].includes(el.type)) return el.checked;
    if (['checkbox', 'radio', 'switch'].includes(el.getAttribute('role'))) return el.getAttribute('aria-checked') === 'true';
    return 'error';
  };
  const valued = () => ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.nodeName);
  switch (query.op) {
    case 'getAttribute': return { count, value: el.getAttribute(arg) };
    case 'innerText': return { count, value: el.innerText };
    case 'textContent': return { count, value: el.textContent };
    case 'inputValue': return valued() ? { count, value: el.value } : { count, error: 'Not an <input>, <textarea> or <select> element' };
    case 'isChecked': return checked() === 'error' ? { count, error: 'Not a checkbox or radio button' } : { count, value: checked() };
    case 'boundingBox': {
      if (!visible(el)) return { count, value: null };
      const r = el.getBoundingClientRect();
      return { count, value: { x: r.x, y: r.y, width: r.width, height: r.height } };
    }
    case 'actionable': {
      // Visible, enabled, and (`arg.hit`) the target of a click at its centre.
      if (!visible(el)) return { count, value: { ready: false, why: 'not visible' } };
      if (el.disabled || el.closest('fieldset:disabled')) return { count, value: { ready: false, why: 'disabled' } };
      if (!arg.hit) return { count, value: { ready: true } };
      el.scrollIntoView({ block: 'nearest', inline: 'nearest' });
      const r = el.getBoundingClientRect();
      const at = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
      const ready = Boolean(at) && (at === el || el.contains(at));
      return { count, value: { ready, why: ready ? '' : `${at?.outerHTML.slice(0, 80)} would receive the click`, rect: [r.x, r.y, r.width, r.height] } };
    }
    case 'fill': {
      if (!valued() || el.nodeName === 'SELECT') return { count, error: 'Not an <input> or <textarea> element' };
      if (el.readOnly) return { count, value: false };
      el.focus();
      el.value = arg;
      el.dispatchEvent(new InputEvent('input', { bubbles: true, composed: true, inputType: 'insertText', data: arg }));
      if (!['text', 'search', 'url', 'tel', 'password', 'email', 'textarea', 'number'].includes(el.type)) {
        el.dispatchEvent(new Event('change', { bubbles: true }));
      }
      return { count, value: true };
    }
    case 'selectOption': {
      if (el.nodeName !== 'SELECT') return { count, error: 'Element is not a <select> element' };
      const option = [...el.options].find((o) => o.value === arg || o.label === arg);
      if (!option) return { count, value: null };
      // A change handler that navigates away: said, for the caller to wait for the next page.
      let leaving = false;
      const unload = () => { leaving = true; };
      addEventListener('beforeunload', unload);
      window.__tidesyncDocument = true;
      option.selected = true;
      el.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
      el.dispatchEvent(new Event('change', { bubbles: true }));
      removeEventListener('beforeunload', unload);
      return { count, value: { selected: [option.value], leaving } };
    }
    case 'setInputFiles': {
      // Built in the page, so the file has the name and type given, as Playwright's has.
      if (el.nodeName !== 'INPUT' || el.type !== 'file') return { count, error: 'Node is not an HTMLInputElement of type file' };
      const transfer = new DataTransfer();
      for (const f of arg) {
        const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
        transfer.items.add(new File([bytes], f.name, { type: f.mimeType }));
      }
      el.files = transfer.files;
      el.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
      el.dispatchEvent(new Event('change', { bubbles: true }));
      return { count, value: true };
    }
    default: return { count, error: `unknown locator operation ${query.op}` };
  }
}

/** Polls `attempt` (which answers `undefined` to go on) until it answers, or throws after `timeout` ms. */
async function poll(what, timeout, attempt) {
  const end = Date.now() + timeout;
  let last = '';
  for (let wait = 0; ; wait = Math.min(wait ? wait * 2 : 20, 100)) {
    try {
      const answer = await attempt();
      if (answer !== undefined) return answer;
    } catch (e) {
      if (e.locatorError) throw e;
      last = ` (last: ${e.message})`; // a page between two documents: tried again
    }
    if (Date.now() > end) throw new Error(`Timeout ${timeout}ms exceeded: ${what}${last}`);
    await sleep(wait);
  }
}

function fail(message) {
  const e = new Error(message);
  e.locatorError = true;
  return e;
}

function filters({ hasText, has } = {}) {
  const steps = [];
  if (hasText !== undefined) steps.push({ hasText });
  if (has !== undefined) steps.push({ has: has.steps });
  return steps;
}

export class Locator {
  constructor(page, steps, description) {
    this.page = page;
    this.steps = steps;
    this.description = description;
  }

  #with(steps, more) {
    return new Locator(this.page, [...this.steps, ...steps], `${this.description}${more}`);
  }

  locator(selector, options = {}) {
    return this.#with([{ css: selector }, ...filters(options)], `.locator(${JSON.stringify(selector)}${options.hasText ? `, hasText ${JSON.stringify(options.hasText)}` : ''})`);
  }

  filter(options) {
    return this.#with(filters(options), '.filter(...)');
  }

  last() {
    return this.#with([{ last: true }], '.last()');
  }

  getByLabel(text) {
    return this.#with([{ label: text }], `.getByLabel(${JSON.stringify(text)})`);
  }

  getByRole(role, { name } = {}) {
    return this.#with([{ role, name }], `.getByRole(${JSON.stringify(role)}, ${JSON.stringify(name)})`);
  }

  /** One run of `op` in the page: its value, or the caller's mistake thrown. */
  async #run(op, arg) {
    const answer = await this.page.locatorQuery({ steps: this.steps, op, arg, description: this.description });
    if (answer.error) throw fail(`${op}: ${answer.error}`);
    return answer;
  }

  /** `op` once exactly one element matches (strict), its value once `accept(value)` holds. */
  #onElement(op, arg, { timeout = DEFAULT_TIMEOUT, accept = () => true } = {}) {
    return poll(`${this.description}.${op}`, timeout, async () => {
      const { count, value } = await this.#run(op, arg);
      return count === 1 && accept(value) ? { value } : undefined;
    }).then((r) => r.value);
  }

  async count() {
    return (await this.#run('count')).value;
  }

  async waitFor({ state = 'visible', timeout = DEFAULT_TIMEOUT } = {}) {
    if (!['attached', 'detached', 'visible', 'hidden'].includes(state)) throw new Error(`state: expected one of (attached|detached|visible|hidden)`);
    await poll(`${this.description}.waitFor(${state})`, timeout, async () => {
      const { count, value } = await this.#run('state');
      if (count > 1) throw fail(`strict mode violation: ${this.description} resolved to ${count} elements`);
      const met = { attached: value.attached, detached: !value.attached, visible: value.visible, hidden: !value.visible }[state];
      return met ? true : undefined;
    });
  }

  async isHidden() {
    const { count, value } = await this.#run('state');
    if (count > 1) throw fail(`strict mode violation: ${this.description} resolved to ${count} elements`);
    return !value.visible;
  }

  getAttribute(name, options) { return this.#onElement('getAttribute', name, options); }

  innerText(options) { return this.#onElement('innerText', undefined, options); }

  textContent(options) { return this.#onElement('textContent', undefined, options); }

  inputValue(options) { return this.#onElement('inputValue', undefined, options); }

  isChecked(options) { return this.#onElement('isChecked', undefined, options); }

  boundingBox(options) { return this.#onElement('boundingBox', undefined, options); }

  /** Waits until the element is visible and enabled (and, for a click, still and not covered). */
  async #actionable(hit, timeout) {
    let previous;
    await this.#onElement('actionable', { hit }, {
      timeout,
      accept: (v) => {
        const still = !hit || JSON.stringify(v.rect) === JSON.stringify(previous);
        previous = v.rect;
        return v.ready && still;
      },
    });
  }

  async click({ timeout = DEFAULT_TIMEOUT } = {}) {
    const end = Date.now() + timeout;
    await poll(`${this.description}.click()`, timeout, async () => {
      await this.#actionable(true, Math.max(end - Date.now(), 0));
      await this.page.locatorClick({ steps: this.steps, op: 'element', description: this.description });
      return true;
    });
  }

  async check(options) {
    if (await this.isChecked(options)) return;
    await this.click(options);
    if (!(await this.isChecked(options))) throw fail('Clicking the checkbox did not change its state');
  }

  async fill(value, { timeout = DEFAULT_TIMEOUT } = {}) {
    await this.#actionable(false, timeout);
    await this.#onElement('fill', String(value), { timeout, accept: (done) => done });
  }

  async selectOption(value, { timeout = DEFAULT_TIMEOUT } = {}) {
    await this.#actionable(false, timeout);
    const { selected, leaving } = await this.#onElement('selectOption', value, { timeout, accept: (r) => r !== null });
    // As Playwright does, a navigation the change started is waited for until the next page is there.
    if (leaving) await poll('the navigation the selection started', timeout, async () => ((await this.page.evaluate(() => window.__tidesyncDocument === undefined)) ? true : undefined));
    return selected;
  }

  /** `files`: one `{ name, mimeType, buffer }` or a list of them. */
  async setInputFiles(files, { timeout = DEFAULT_TIMEOUT } = {}) {
    const list = (Array.isArray(files) ? files : [files]).map((f) => ({ name: f.name, mimeType: f.mimeType, base64: Buffer.from(f.buffer).toString('base64') }));
    await this.#onElement('setInputFiles', list, { timeout });
  }
}

/** Adds Playwright's locator calls on a page, and those on a page that take a selector, to `PageClass`. */
export function withLocators(PageClass) {
  Object.assign(PageClass.prototype, {
    locator(selector, options = {}) {
      return new Locator(this, [], 'page').locator(selector, options);
    },
    getByLabel(text) { return new Locator(this, [], 'page').getByLabel(text); },
    getByRole(role, options) { return new Locator(this, [], 'page').getByRole(role, options); },
    getAttribute(selector, name, options) { return this.locator(selector).getAttribute(name, options); },
    inputValue(selector, options) { return this.locator(selector).inputValue(options); },
    selectOption(selector, value, options) { return this.locator(selector).selectOption(value, options); },
    /** Not strict, as Playwright's: the first element the selector matches is the one waited on. */
    async waitForSelector(selector, { state = 'visible', timeout = DEFAULT_TIMEOUT } = {}) {
      const first = new Locator(this, [{ css: selector }], `waitForSelector(${JSON.stringify(selector)})`);
      await poll(first.description, timeout, async () => {
        const { value } = await this.locatorQuery({ steps: first.steps, op: 'state', description: first.description });
        return { attached: value.attached, detached: !value.attached, visible: value.visible, hidden: !value.visible }[state] ? true : undefined;
      });
    },
    async waitForLoadState(state = 'load', { timeout = DEFAULT_TIMEOUT } = {}) {
      const ready = state === 'load' ? ['complete'] : ['interactive', 'complete'];
      await poll(`waitForLoadState(${state})`, timeout, async () => (ready.includes(await this.evaluate(() => document.readyState)) ? true : undefined));
    },
  });
}
