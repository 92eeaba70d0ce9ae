// The database's WebSocket (the reference server's `websocket` feature): the
// live feed and the request channel in one connection. Change and heartbeat
// frames are handed to `onText` as the lines of a `continuous` feed, so the
// Rust side reads them as it reads a stream; `request` sends one of the
// engine's requests up and resolves to its answer. No frame for `stallMs`
// (the server sends heartbeats) ends it as stalled. `done` resolves to
// `{ outcome }`: `refused` (it never opened: a server at its cap answers the
// upgrade 503, which a browser does not show), `ended` (the server closed it
// in order), `stalled`, `failed` or `closed` (by `close`); requests still
// waiting then fail, as a lost connection fails a fetch.
//
// Browsers send no custom header on a WebSocket: an `authorization` (the
// `Authorization` header the app signs requests with) is offered as a
// subprotocol beside `tidesync`, which the server selects.
export function openSocket(url, stallMs, onText, authorization) {
  const protocols = authorization ? ["tidesync", `tidesync.authorization.${base64url(authorization)}`] : undefined;
  const ws = new WebSocket(url.replace(/^http/, "ws"), protocols);
  const pending = new Map();
  let next = 1;
  let opened = false;
  let why;
  let timer;
  let finished = false;
  let resolveDone;
  const done = new Promise((resolve) => { resolveDone = resolve; });
  const finish = (outcome) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    for (const { reject, timeout } of pending.values()) {
      clearTimeout(timeout);
      reject(new Error("the socket closed before the answer came"));
    }
    pending.clear();
    resolveDone({ outcome: why ?? outcome });
  };
  const end = (reason) => {
    why ??= reason;
    try { ws.close(); } catch { /* already closing */ }
    finish(reason);
  };
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => end("stalled"), stallMs);
  };
  ws.onopen = () => { opened = true; arm(); };
  ws.onmessage = (event) => {
    arm();
    let frame;
    try { frame = JSON.parse(event.data); } catch { end("failed"); return; }
    if (frame.type === "response") {
      const waiting = pending.get(frame.id);
      if (!waiting) return;
      pending.delete(frame.id);
      clearTimeout(waiting.timeout);
      const body = typeof frame.body === "string" ? frame.body : JSON.stringify(frame.body);
      waiting.resolve({ status: frame.status, body, retryAfter: frame.retryAfter ?? null });
    } else if (frame.type === "change") {
      onText(`${JSON.stringify(frame.row)}\n`);
    } else if (frame.type === "heartbeat") {
      onText("\n");
    } else if (frame.type === "error") {
      // A frame of ours the server could not read: nothing was written, and
      // the request it was waits for its timeout.
      console.warn(`tidesync: the server refused a socket frame: ${frame.error}: ${frame.reason}`);
    }
  };
  ws.onclose = (event) => finish(!opened ? "refused" : event.code === 1000 ? "ended" : "failed");
  arm();
  const request = (method, path, query, body, timeoutMs) => new Promise((resolve, reject) => {
    if (finished || ws.readyState !== WebSocket.OPEN) {
      reject(new Error("the socket is not open"));
      return;
    }
    const id = next++;
    const timeout = setTimeout(() => {
      pending.delete(id);
      const error = new Error("the request took too long");
      error.name = "AbortError";
      reject(error);
    }, timeoutMs);
    pending.set(id, { resolve, reject, timeout });
    const head = JSON.stringify({ type: "request", id, method, path, query });
    // The body is JSON text already: spliced in, not parsed and encoded again.
    ws.send(body == null ? head : `${head.slice(0, -1)},"body":${body}}`);
  });
  return {
    done,
    close: () => end("closed"),
    fail: () => end("failed"),
    request,
    isOpen: () => !finished && ws.readyState === WebSocket.OPEN,
  };
}

// `text` (UTF-8) as base64url without padding: a valid subprotocol token.
function base64url(text) {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
