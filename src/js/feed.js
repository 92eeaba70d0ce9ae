// The live changes feed's network side: one fetch read as a stream, with a
// stall watchdog. The Rust side (src/api/feed.rs) decides which feed to open
// and reads what `onText` hands it.

// Opens `url` with `init` (`headers`, `credentials`) through `fetchFn` (the
// app's own fetch) or the global fetch, and hands each decoded chunk to `onText`. No
// bytes for `stallMs` (not even a heartbeat) aborts it as stalled; past
// `lifetimeMs` (when above 0) it is ended. Returns
// `{ done, close }`: `done` resolves to `{ outcome, status?, message? }` with
// `outcome` one of `ended` (the server closed it in order), `stalled`
// (`silent` when not a byte ever came),
// `refused` (a 4xx the feed kind may cause, or a 503: a server at its cap of
// live feeds asks the client to poll), `failed` (or by `fail`, for an
// unreadable feed) or `closed` (by `close`).
export function openFeed(url, init, fetchFn, stallMs, lifetimeMs, onText) {
  const controller = new AbortController();
  let timer;
  let why;
  let bytes = 0;
  const abort = (reason) => {
    why ??= reason;
    controller.abort();
  };
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => abort("stalled"), stallMs);
  };
  // Past its lifetime (0: none) the request is ended as if the server had.
  const lifetime = lifetimeMs > 0 ? setTimeout(() => abort("ended"), lifetimeMs) : undefined;
  const done = (async () => {
    arm();
    try {
      const response = await send(fetchFn, url, { ...init, signal: controller.signal, cache: "no-store" });
      if (!response.ok || !response.body) {
        await response.body?.cancel().catch(() => {});
        const refused = [400, 405, 406, 415, 501, 503].includes(response.status);
        return { outcome: refused ? "refused" : "failed", status: response.status };
      }
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { done: end, value } = await reader.read();
        if (end) break;
        bytes += value.length;
        arm();
        const text = decoder.decode(value, { stream: true });
        if (text) onText(text);
      }
      const rest = decoder.decode();
      if (rest) onText(rest);
      return { outcome: "ended" };
    } catch (error) {
      const outcome = why === "stalled" && bytes === 0 ? "silent" : why ?? "failed";
      return { outcome, message: String(error?.message ?? error) };
    } finally {
      clearTimeout(timer);
      clearTimeout(lifetime);
    }
  })();
  return { done, close: () => abort("closed"), fail: () => abort("failed") };
}

// The text at `url`, or null when it cannot be had (the server's welcome,
// read once to choose a feed).
export async function getText(url, init, fetchFn) {
  try {
    const response = await send(fetchFn, url, { ...init, cache: "no-store" });
    return response.ok ? await response.text() : null;
  } catch {
    return null;
  }
}

// The app's own fetch gets a Request, as every request of the SDK; the
// global one the URL and init.
function send(fetchFn, url, init) {
  return fetchFn ? Promise.resolve(fetchFn(new Request(url, init))) : fetch(url, init);
}

// A promise resolved after `ms` milliseconds, in a window or a worker.
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
