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
