// WebKitGTK for the end-to-end suites (browsers.mjs): Debian's
// WebKitWebDriver driving its MiniBrowser in a virtual X display, over
// classic WebDriver (the only protocol Debian builds it with): one driver and
// session per browser context, since a session is one ephemeral profile and
// the driver holds one session at a time.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { inPage, withLocators } from './locators.mjs';

const driverSettings = JSON.parse(readFileSync(new URL('../../webdriver.json', import.meta.url), 'utf8'));
const miniBrowser = driverSettings['webkitgtk:browserOptions'].binary;

/**
 * The GTK settings the MiniBrowser runs with (`webkit-gtk/gtk-3.0/gtk.css`):
 * its toolbar drawn small, so that its window can be as narrow as a phone's
 * screen (375 px; GTK would keep it at least as wide as the toolbar). They
 * style the browser's own widgets only, never a page.
 */
const gtkConfig = fileURLToPath(new URL('./webkit-gtk', import.meta.url));

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export class WebKitBrowser {
  constructor() {
    this.contexts = new Set();
  }

  async newContext(options = {}) {
    const context = new WebKitContext(this, options);
    await context.start();
    this.contexts.add(context);
    return context;
  }

  async close() {
    await Promise.all([...this.contexts].map((c) => c.close()));
  }
}

/** One WebKitWebDriver (in its own virtual display) and its one session. */
class WebKitContext {
  constructor(browser, { viewport } = {}) {
    this.browser = browser;
    this.viewport = viewport;
    this.pages = new Set();
    this.initScripts = [];
    this.queue = Promise.resolve();
    this.current = null;
    this.spareWindow = null;
  }

  async start() {
    const port = await freePort();
    this.base = `http://127.0.0.1:${port}`;
    this.driver = spawn('xvfb-run', ['-a', '/usr/bin/WebKitWebDriver', `--port=${port}`], {
      stdio: 'ignore', detached: true, env: { ...process.env, XDG_CONFIG_HOME: gtkConfig },
    });
    for (let i = 0; i < 200; i++) {
      try {
        if ((await fetch(`${this.base}/status`)).ok) break;
      } catch { /* not listening yet */ }
      await sleep(25);
    }
    const session = await this.raw('POST', '/session', {
      capabilities: { alwaysMatch: { 'webkitgtk:browserOptions': { binary: miniBrowser, args: ['--automation'] } } },
    });
    this.session = `/session/${session.sessionId}`;
    await this.raw('POST', `${this.session}/timeouts`, { script: 300_000, pageLoad: 60_000 });
    this.spareWindow = await this.raw('GET', `${this.session}/window`);
    this.current = this.spareWindow;
    // What the browser's own widgets take of a window, measured on the first
    // one before any resize (a page learns of a resize a moment after it).
    const rect = await this.raw('GET', `${this.session}/window/rect`);
    const [w, h] = await this.raw('POST', `${this.session}/execute/sync`, { script: 'return [innerWidth, innerHeight]', args: [] });
    this.chrome = { width: rect.width - w, height: rect.height - h };
  }

  /** One WebDriver command; its `value`, or a thrown error with the driver's message. */
  async raw(method, path, body) {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = await res.json();
    if (!res.ok) throw new Error(`WebKitWebDriver ${method} ${path}: ${answer.value?.error}: ${answer.value?.message}`);
    return answer.value;
  }

  /**
   * Runs `work` with `handle` as the session's current window; commands of
   * one session run one at a time, as the driver requires.
   */
  inWindow(handle, work) {
    const run = this.queue.then(async () => {
      if (this.current !== handle) {
        await this.raw('POST', `${this.session}/window`, { handle });
        this.current = handle;
      }
      return work();
    });
    this.queue = run.catch(() => {});
    return run;
  }

  async newPage() {
    let handle = this.spareWindow;
    if (handle) {
      this.spareWindow = null;
    } else {
      const open = this.current ?? [...this.pages][0]?.handle;
      handle = (await this.inWindow(open, () => this.raw('POST', `${this.session}/window/new`, { type: 'window' }))).handle;
    }
    const page = new WebKitPage(this, handle);
    this.pages.add(page);
    if (this.viewport) await page.setViewportSize(this.viewport);
    return page;
  }

  async addInitScript(fn, arg) {
    this.initScripts.push([fn, arg]);
  }

  async setOffline() {
    throw new Error('classic WebDriver cannot take a page offline');
  }

  async close() {
    if (!this.driver) return;
    this.browser.contexts.delete(this);
    await this.raw('DELETE', this.session).catch(() => {});
    try { process.kill(-this.driver.pid, 'SIGTERM'); } catch { /* gone already */ }
    this.driver = null;
  }
}

let evaluations = 0;

/**
 * `value` as JavaScript source, for an argument sent into a page: JSON, plus
 * what JSON cannot carry (`undefined`, `NaN`, infinities, `-0`), as
 * Playwright passes them.
 */
function toSource(value) {
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (value === Infinity) return 'Infinity';
    if (value === -Infinity) return '-Infinity';
    if (Object.is(value, -0)) return '-0';
    return String(value);
  }
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(toSource).join(',')}]`;
  return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${toSource(v)}`).join(',')}}`;
}

/**
 * A window of a WebKit session. `evaluate` starts the function in the page
 * and polls for its result with short synchronous scripts, so a long
 * evaluation in one window never holds up the others (classic WebDriver runs
 * one command of a session at a time). Init scripts run right after each
 * load, before the caller's first evaluation: classic WebDriver has no
 * preload scripts.
 */
class WebKitPage {
  constructor(context, handle) {
    this.context = context;
    this.handle = handle;
    this.initScripts = [];
    this.closed = false;
  }

  command(method, path, body) {
    if (this.closed) return Promise.reject(new Error('the page is closed'));
    return this.context.inWindow(this.handle, () => this.context.raw(method, `${this.context.session}${path}`, body));
  }

  async evaluate(fn, arg) {
    const id = `e${evaluations++}`;
    const source = `
      const id = ${JSON.stringify(id)};
      const results = (window.__tidesyncEvaluations ??= {});
      results[id] = null;
      const fn = (${fn.toString()});
      const arg = ${toSource(arg)};
      Promise.resolve().then(() => fn(arg)).then(
        (value) => { results[id] = JSON.stringify({ value }); },
        (e) => { results[id] = JSON.stringify({ error: String(e && e.stack ? e.message + '\\n' + e.stack : e) }); });
    `;
    await this.command('POST', '/execute/sync', { script: source, args: [] });
    const read = `const r = (window.__tidesyncEvaluations || {})[${JSON.stringify(id)}];
      if (r === undefined) return 'lost';
      if (r !== null) delete window.__tidesyncEvaluations[${JSON.stringify(id)}];
      return r;`;
    for (let wait = 5; ; wait = Math.min(wait * 2, 40)) {
      const text = await this.command('POST', '/execute/sync', { script: read, args: [] });
      if (text === 'lost') throw new Error('the page navigated away during evaluate');
      if (text !== null) {
        const result = JSON.parse(text);
        if ('error' in result) throw new Error(result.error);
        return result.value;
      }
      await sleep(wait);
    }
  }

  async addInitScript(fn, arg) {
    this.initScripts.push([fn, arg]);
  }

  /**
   * Sizes the window so that the page's viewport is `width`×`height` CSS
   * pixels (the browser's own widgets besides), and waits until the page has
   * that viewport.
   */
  async setViewportSize({ width, height }) {
    const { chrome } = this.context;
    await this.command('POST', '/window/rect', { width: width + chrome.width, height: height + chrome.height });
    const inner = () => this.command('POST', '/execute/sync', { script: 'return [innerWidth, innerHeight]', args: [] });
    const end = Date.now() + 10_000;
    for (let seen = await inner(); seen[0] !== width || seen[1] !== height; seen = await inner()) {
      if (Date.now() > end) throw new Error(`WebKit: the viewport could not be set to ${width}×${height}: it is ${seen.join('×')}`);
      await sleep(20);
    }
  }

  /** The locator layer's query (locators.mjs), run as one synchronous script. */
  locatorQuery(query) {
    return this.command('POST', '/execute/sync', { script: `return (${inPage})(arguments[0]);`, args: [query] });
  }

  /** A click on the element a locator names, by WebDriver's Element Click (at its centre, refused if covered). */
  async locatorClick(query) {
    const element = await this.locatorQuery(query);
    if (!element || element.error) throw new Error(element?.error ?? `no element for ${query.description}`);
    const [id] = Object.values(element);
    await this.command('POST', `/element/${id}/click`, {});
  }

  async runInitScripts() {
    for (const [fn, arg] of [...this.context.initScripts, ...this.initScripts]) {
      const source = `(${fn.toString()})(${toSource(arg)});`;
      await this.command('POST', '/execute/sync', { script: source, args: [] });
    }
  }

  async goto(url) {
    await this.command('POST', '/url', { url });
    await this.runInitScripts();
  }

  async reload() {
    await this.command('POST', '/refresh', {});
    await this.runInitScripts();
  }

  async waitForFunction(fn, arg, options = {}) {
    const end = Date.now() + (options.timeout ?? 30_000);
    for (;;) {
      const value = await this.evaluate(fn, arg);
      if (value) return value;
      if (Date.now() > end) throw new Error(`waitForFunction timed out: ${fn}`);
      await sleep(50);
    }
  }

  /** Page errors are not reported by classic WebDriver; the listener is kept for parity. */
  on() {}

  /** The viewport only, `fullPage` or not: classic WebDriver takes no full-page screenshot. */
  async screenshot({ path }) {
    const png = await this.command('GET', '/screenshot');
    writeFileSync(path, Buffer.from(png, 'base64'));
  }

  async close() {
    if (this.closed) return;
    if (this.context.pages.size === 1 && !this.context.spareWindow) {
      // The session ends with its last window, so an empty window is opened
      // first and kept for the context's next page. Navigating this one to
      // about:blank instead would not do: WebKit keeps the page in its
      // back/forward cache, Web Locks and IndexedDB connections held.
      const spare = await this.command('POST', '/window/new', { type: 'window' });
      this.context.spareWindow = spare.handle;
    }
    await this.command('DELETE', '/window');
    if (this.context.current === this.handle) this.context.current = null;
    this.closed = true;
    this.context.pages.delete(this);
  }
}

withLocators(WebKitPage);
