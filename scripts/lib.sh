# Shared helpers for the scripts in this folder; sourced, not run.

# Puts cargo's and npm's tool folders first on PATH, so the tools bootstrap installed win.
tidesync_path() {
  export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
}

# Starts the reference server on a free port with a throw-away data folder.
# Sets SERVER_PID and SERVER_URL; the caller stops it with stop_server.
start_server() {
  local bin=$1 data_dir
  data_dir=$(mktemp -d)
  SERVER_DATA_DIR=$data_dir
  rm -f "$data_dir/port"
  "$bin" --port 0 --port-file "$data_dir/port" --data-dir "$data_dir/db" --log-level warn "${@:2}" >"$data_dir/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 200); do
    [ -s "$data_dir/port" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$data_dir/server.log" >&2; return 1; }
    sleep 0.05
  done
  [ -s "$data_dir/port" ] || { echo "server did not start" >&2; cat "$data_dir/server.log" >&2; return 1; }
  SERVER_URL="http://127.0.0.1:$(cat "$data_dir/port")"
  export SERVER_URL
}

stop_server() {
  if [ -n "${SERVER_PID:-}" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
  fi
  [ -n "${SERVER_DATA_DIR:-}" ] && rm -rf "$SERVER_DATA_DIR"
  SERVER_DATA_DIR=
}

# Readies the CouchDB at COUCHDB_URL (admin COUCHDB_USER/COUCHDB_PASSWORD) for
# the CouchDB tier: the app user the tests sign in as, and CORS for the browser
# tests, whose page comes from another origin. Sets COUCH_ADMIN_AUTH,
# COUCH_APP_AUTH (Authorization header values) and COUCH_APP_USER.
couch_prepare() {
  local url=${COUCHDB_URL%/} admin="${COUCHDB_USER:-admin}:${COUCHDB_PASSWORD:-admin}"
  COUCH_APP_USER=tidesync-app
  local app_password=app-secret
  couch_put() {
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' -u "$admin" -X PUT -H 'content-type: application/json' "$url$1" -d "$2")
    case "$code" in 2*|409) ;; *) echo "couch_prepare: PUT $1 answered $code" >&2; return 1 ;; esac
  }
  curl -sf -o /dev/null -u "$admin" "$url/_session" || { echo "couch_prepare: no admin access to $url" >&2; return 1; }
  couch_put "/_users/org.couchdb.user:$COUCH_APP_USER" "{\"name\":\"$COUCH_APP_USER\",\"password\":\"$app_password\",\"roles\":[],\"type\":\"user\"}"
  couch_put /_node/_local/_config/chttpd/enable_cors '"true"'
  couch_put /_node/_local/_config/cors/origins '"*"'
  couch_put /_node/_local/_config/cors/credentials '"true"'
  couch_put /_node/_local/_config/cors/headers '"accept, authorization, content-type, origin, referer"'
  couch_put /_node/_local/_config/cors/methods '"GET, PUT, POST, HEAD, DELETE"'
  COUCH_ADMIN_AUTH="Basic $(printf '%s' "$admin" | base64 -w0)"
  COUCH_APP_AUTH="Basic $(printf '%s' "$COUCH_APP_USER:$app_password" | base64 -w0)"
  export COUCH_ADMIN_AUTH COUCH_APP_AUTH COUCH_APP_USER
}

# Runs a `wasm-pack test` command line with the browser (Chromium or
# Firefox) sending its requests through scripts/harness-proxy.mjs (one request
# per connection to the test runner's server, whose thread pool can otherwise
# leave the page's scripts unanswered behind idle keep-alive sockets). The
# capabilities are webdriver.json's plus the proxy settings. Should the
# harness still stall (the page never reports: "Failed to detect test as
# having been run"), it is run again, up to WASM_TEST_ATTEMPTS times in all
# (2 by default); a stalled attempt's output is kept, prefixed, so its counts
# are not totalled twice. A test that fails is never retried.
wasm_test() {
  local out status=1 dir proxy_pid attempt attempts=${WASM_TEST_ATTEMPTS:-2}
  dir=$(mktemp -d)
  node scripts/harness-proxy.mjs "$dir/port" &
  proxy_pid=$!
  for _ in $(seq 1 100); do [ -s "$dir/port" ] && break; sleep 0.05; done
  [ -s "$dir/port" ] || { echo "wasm_test: the harness proxy did not start" >&2; kill "$proxy_pid" 2>/dev/null; return 1; }
  node -e '
    const caps = JSON.parse(require("fs").readFileSync("webdriver.json", "utf8"));
    const port = Number(process.argv[1]);
    caps["goog:chromeOptions"].args.push(`--proxy-server=http://127.0.0.1:${port}`, "--proxy-bypass-list=<-loopback>");
    // Firefox: the same proxy for every request, loopback included.
    Object.assign(caps["moz:firefoxOptions"].prefs, {
      "network.proxy.type": 1, "network.proxy.http": "127.0.0.1", "network.proxy.http_port": port,
      "network.proxy.no_proxies_on": "", "network.proxy.allow_hijacking_localhost": true,
    });
    require("fs").writeFileSync(process.argv[2], JSON.stringify(caps));
  ' "$(cat "$dir/port")" "$dir/webdriver.json"
  out="$dir/out"
  for attempt in $(seq 1 "$attempts"); do
    status=0
    WASM_BINDGEN_TEST_WEBDRIVER_JSON="$dir/webdriver.json" "$@" >"$out" 2>&1 || status=$?
    if [ "$status" -ne 0 ] && [ "$attempt" -lt "$attempts" ] && grep -q "Failed to detect test as having been run" "$out"; then
      sed 's/^/stalled attempt: /' "$out"
      echo "wasm_test: the browser harness stalled before any test reported; running it again"
      continue
    fi
    cat "$out"
    break
  done
  kill "$proxy_pid" 2>/dev/null || true
  wait "$proxy_pid" 2>/dev/null || true
  rm -rf "$dir"
  return "$status"
}

# Runs the wasm-bindgen browser tests in WebKitGTK: Debian's WebKitWebDriver
# drives its MiniBrowser in a virtual X display (xvfb), reached by
# wasm-bindgen-test-runner as a remote "Safari" driver. WebKit does not send
# loopback requests through a proxy, so the harness proxy cannot help it: its
# page often waits for the runner's server until WebKit drops an idle
# keep-alive connection (well under two minutes). Each test binary therefore
# runs on its own (the arguments name them; all by default), with a
# two-minute harness timeout and up to three attempts.
wasm_test_webkit() {
  local port status=0 driver_pid targets=("$@")
  [ ${#targets[@]} -gt 0 ] || targets=(--lib --test web_store --test web_sdk --test web_attachments)
  port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
  xvfb-run -a /usr/bin/WebKitWebDriver --port="$port" >/dev/null 2>&1 &
  driver_pid=$!
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/status" && break; sleep 0.05; done
  while [ ${#targets[@]} -gt 0 ]; do
    local one=("${targets[0]}")
    if [ "${targets[0]}" = --test ]; then one+=("${targets[1]}"); targets=("${targets[@]:2}"); else targets=("${targets[@]:1}"); fi
    SAFARIDRIVER_REMOTE="http://127.0.0.1:$port" WASM_BINDGEN_TEST_ONLY_WEB=1 WASM_TEST_ATTEMPTS=3 \
      WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-120}" \
      CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
      wasm_test cargo test --target wasm32-unknown-unknown --locked "${one[@]}" || status=$?
  done
  kill "$driver_pid" 2>/dev/null || true
  pkill -f "WebKitWebDriver --port=$port" 2>/dev/null || true
  wait "$driver_pid" 2>/dev/null || true
  return "$status"
}
