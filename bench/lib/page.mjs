// One bench page in the browser: opens it, calls `window.bench` functions with
// a time limit, and reports page errors with the call that met them.

export class BenchPage {
  static async open(browser, url, timeoutMs) {
    const page = await browser.newPage();
    const self = new BenchPage(page, timeoutMs);
    page.on('pageerror', (e) => self.errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') self.errors.push(m.text()); });
    // A page error while loading (the package or PouchDB missing) fails at once.
    const failed = new Promise((_, reject) => page.once('pageerror', reject));
    failed.catch(() => {});
    await page.goto(`${url}/bench.html`);
    await Promise.race([page.waitForFunction(() => window.benchReady === true, null, { timeout: 30_000 }), failed])
      .catch((e) => { throw new Error(`the bench page did not load: ${self.errors.join('; ') || e.message}`); });
    return self;
  }

  constructor(page, timeoutMs) {
    this.page = page;
    this.timeoutMs = timeoutMs;
    this.errors = [];
  }

  /** `window.bench[fn](...args)`, rejected after the time limit. */
  async call(fn, ...args) {
    let timer;
    const limit = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${fn} took longer than ${this.timeoutMs / 1000} s`)), this.timeoutMs);
    });
    try {
      return await Promise.race([this.page.evaluate(([f, a]) => window.bench[f](...a), [fn, args]), limit]);
    } catch (e) {
      const seen = this.errors.length ? ` (page errors: ${this.errors.join('; ')})` : '';
      throw new Error(`${fn}: ${e.message.split('\n')[0]}${seen}`);
    } finally {
      clearTimeout(timer);
    }
  }

  close() {
    return this.page.close();
  }
}
