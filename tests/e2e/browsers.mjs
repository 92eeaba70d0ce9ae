// The browser engines the end-to-end suites run in, behind the small part of
// Playwright's API they use (contexts with a viewport, pages, `evaluate`, init
// scripts, offline, locators), so one set of test files serves all three:
// - chromium: Debian's Chromium through playwright-core (the API itself);
// - firefox: Debian's Firefox ESR through puppeteer-core over WebDriver BiDi
//   (user contexts, preload scripts, offline emulation);
// - webkit: Debian's WebKitWebDriver driving its MiniBrowser in a virtual X
//   display, over classic WebDriver (webkit.mjs).
// Pages of the two last also have the locators the demo suite uses (locators.mjs).
// `TIDESYNC_E2E_BROWSER` picks the engine (chromium by default).
import { readFileSync } from 'node:fs';
import { inPage, withLocators } from './locators.mjs';
import { WebKitBrowser } from './webkit.mjs';

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
 * quota, crashing a page's renderer), `responses` (a page's `response`
 * events: the URL and status of each response it received), `offline-load`
 * (a page loaded while offline hears the network come back: `online`).
 */
export function lacks(feature) {
  if (feature === 'cdp' && engine !== 'chromium') {
    return `${engine} has no Chrome DevTools Protocol (per-origin quota, renderer crash)`;
  }
  if (feature === 'offline' && engine === 'webkit') {
    return 'WebKitWebDriver speaks classic WebDriver only (Debian builds it without BiDi), which cannot take a page offline';
  }
  if (feature === 'offline-load' && engine === 'firefox') {
    return 'Firefox\'s offline emulation (WebDriver BiDi) never fires `online` at a page loaded while offline, so such a page never hears the network come back';
  }
  if (feature === 'offline-load') return lacks('offline');
  if (feature === 'responses' && engine === 'webkit') {
    return 'WebKitWebDriver speaks classic WebDriver only (Debian builds it without BiDi), which reports none of a page\'s network responses';
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

/** Firefox's console message for a connection it could not open (not an exception). */
const FIREFOX_NETWORK_LOG = /^Firefox can.t establish a connection to the server at /;

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
    newContext: async (options) => new FirefoxContext(await browser.createBrowserContext(), options),
    close: () => browser.close(),
  };
}

class FirefoxContext {
  constructor(context, { viewport } = {}) {
    this.context = context;
    this.viewport = viewport;
    this.pages = new Set();
    this.initScripts = [];
    this.offline = false;
  }

  async newPage() {
    // A window each, as Chromium's pages are: a tab behind another would be
    // hidden, and the SDK closes a hidden page's live feed.
    const page = new FirefoxPage(await this.context.newPage({ type: 'window' }), this);
    if (this.viewport) await page.page.setViewport(this.viewport);
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
    if (event !== 'pageerror') {
      this.page.on(event, handler);
      return;
    }
    // Over BiDi, puppeteer reports the browser's own console errors as page
    // errors too, among them a WebSocket that could not connect (a server
    // restarting under the page). Playwright's `pageerror`, which the suites
    // are written against, is an uncaught exception only: those are passed on.
    this.page.on(event, (error) => {
      if (!FIREFOX_NETWORK_LOG.test(error?.message ?? '')) handler(error);
    });
  }

  screenshot({ path, fullPage }) {
    return this.page.screenshot({ path, fullPage });
  }

  /** The locator layer's query (locators.mjs). */
  locatorQuery(query) {
    return this.page.evaluate(inPage, query);
  }

  /** A click on the element a locator names, with puppeteer's mouse at its centre. */
  async locatorClick(query) {
    const handle = await this.page.evaluateHandle(inPage, query);
    try {
      const element = handle.asElement();
      if (!element) throw new Error(`no element for ${query.description}`);
      await element.click();
    } finally {
      await handle.dispose();
    }
  }

  async close() {
    this.context.pages.delete(this);
    await this.page.close();
  }
}

withLocators(FirefoxPage);
