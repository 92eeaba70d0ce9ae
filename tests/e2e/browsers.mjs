// The browser engines the end-to-end suites run in, behind the small part of
// Playwright's API they use (contexts, pages, `evaluate`, init scripts,
// offline), so one set of test files serves all three:
// - chromium: Debian's Chromium through playwright-core (the API itself);
// - firefox: Debian's Firefox ESR through puppeteer-core over WebDriver BiDi
//   (user contexts, preload scripts, offline emulation);
// - webkit: Debian's WebKitWebDriver driving its MiniBrowser in a virtual X
//   display, over classic WebDriver (the only protocol Debian builds it with):
//   one driver and session per browser context, since a session is one
//   ephemeral profile and the driver holds one session at a time.
// `TIDESYNC_E2E_BROWSER` picks the engine (chromium by default).
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** The engine of this run. */
export const engine = process.env.TIDESYNC_E2E_BROWSER ?? 'chromium';
if (!['chromium', 'firefox', 'webkit'].includes(engine)) {
  throw new Error(`TIDESYNC_E2E_BROWSER must be chromium, firefox or webkit, not ${engine}`);
}

/**
 * Why this engine cannot run a test that needs `feature`, or `undefined`
 * where it can; given to `test(name, { skip })`, so the run prints the reason
 * beside the test. Features: `offline` (a context's network switched off,
 * `navigator.onLine` false), `cdp` (Chrome DevTools Protocol: a per-origin
 * quota, crashing a page's renderer).
 */
export function lacks(feature) {
  if (feature === 'cdp' && engine !== 'chromium') {
    return `${engine} has no Chrome DevTools Protocol (per-origin quota, renderer crash)`;
  }
  if (feature === 'offline' && engine === 'webkit') {
    return 'WebKitWebDriver speaks classic WebDriver only (Debian builds it without BiDi), which cannot take a page offline';
  }
  return undefined;
}

export const chromiumArgs = [
  '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
  '--disable-component-update', '--no-first-run',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
];

/**
 * The browser settings the wasm-bindgen tiers use (webdriver.json, their one
 * home): Firefox's preferences and WebKit's MiniBrowser come from there.
 */
const driverSettings = JSON.parse(readFileSync(new URL('../../webdriver.json', import.meta.url), 'utf8'));

/** Firefox preferences: webdriver.json's (nothing reaches for outside hosts), and what pages of a test need. */
const firefoxPrefs = {
  ...driverSettings['moz:firefoxOptions'].prefs,
  // Tabs of one context are pages of one app: a tab in the background must
  // not have its timers clamped to a second (the leader may be that tab).
  'dom.min_background_timeout_value': 4,
  'dom.min_background_timeout_value_without_budget_throttling': 4,
  'dom.timeout.enable_budget_timer_throttling': false,
  // `navigator.storage.persist()` asks the user in Firefox; a headless run
  // has nobody to answer, so the answer is yes, as a user's would be.
  'dom.storageManager.prompt.testing': true,
  'dom.storageManager.prompt.testing.allow': true,
};

/** Starts the engine of this run; the result has Playwright's `newContext()` and `close()`. */
export async function launchBrowser() {
  if (engine === 'firefox') return launchFirefox();
  if (engine === 'webkit') return new WebKitBrowser();
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: chromiumArgs });
}

// ---- Firefox (puppeteer-core, WebDriver BiDi) ----

async function launchFirefox() {
  const { default: puppeteer } = await import('puppeteer-core');
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: '/usr/bin/firefox-esr',
    headless: true,
    extraPrefsFirefox: firefoxPrefs,
    protocolTimeout: 300_000,
  });
  return {
    newContext: async () => new FirefoxContext(await browser.createBrowserContext()),
    close: () => browser.close(),
  };
}

class FirefoxContext {
  constructor(context) {
    this.context = context;
    this.pages = new Set();
    this.initScripts = [];
    this.offline = false;
  }

  async newPage() {
    // A window each, as Chromium's pages are: a tab behind another would be
    // hidden, and the SDK closes a hidden page's live feed.
    const page = new FirefoxPage(await this.context.newPage({ type: 'window' }), this);
    for (const [fn, arg] of this.initScripts) await page.addInitScript(fn, arg);
    if (this.offline) await page.page.setOfflineMode(true);
    this.pages.add(page);
    return page;
  }

  async addInitScript(fn, arg) {
    this.initScripts.push([fn, arg]);
    for (const page of this.pages) await page.addInitScript(fn, arg);
  }

  async setOffline(offline) {
    this.offline = offline;
    for (const page of this.pages) await page.page.setOfflineMode(offline);
  }

  close() {
    return this.context.close();
  }
}

class FirefoxPage {
  constructor(page, context) {
    this.page = page;
    this.context = context;
  }

  evaluate(fn, arg) {
    return this.page.evaluate(fn, arg);
  }

  addInitScript(fn, arg) {
    return this.page.evaluateOnNewDocument(fn, arg);
  }

  async goto(url) {
    await this.page.goto(url);
  }

  async reload() {
    await this.page.reload();
  }

  waitForFunction(fn, arg, options = {}) {
    return this.page.waitForFunction(fn, { polling: 50, timeout: options.timeout ?? 30_000 }, arg);
  }

  on(event, handler) {
    this.page.on(event, handler);
  }

  screenshot({ path }) {
    return this.page.screenshot({ path });
  }

  async close() {
    this.context.pages.delete(this);
    await this.page.close();
  }
}

// ---- WebKitGTK (classic WebDriver) ----

const miniBrowser = driverSettings['webkitgtk:browserOptions'].binary;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

class WebKitBrowser {
  constructor() {
    this.contexts = new Set();
  }

  async newContext() {
    const context = new WebKitContext(this);
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
  constructor(browser) {
    this.browser = browser;
    this.pages = new Set();
    this.initScripts = [];
    this.queue = Promise.resolve();
    this.current = null;
    this.spareWindow = null;
  }

  async start() {
    const port = await freePort();
    this.base = `http://127.0.0.1:${port}`;
    this.driver = spawn('xvfb-run', ['-a', '/usr/bin/WebKitWebDriver', `--port=${port}`], { stdio: 'ignore', detached: true });
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
    return page;
  }

  async addInitScript(fn, arg) {
    this.initScripts.push([fn, arg]);
  }

  async setOffline() {
    throw new Error(lacks('offline'));
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
