// The fan-out load tool on its own: starts a reference server (the `server`
// cargo profile's build; run scripts/bench once, or `cargo build -p
// tidesync-server --profile server`), connects the live clients and prints
// the delivery latencies and the server's memory as JSON.
//
//   node --experimental-websocket bench/load.mjs [--clients 1000] [--changes 20]
import { parseArgs } from 'node:util';
import { fanout, MAX_CLIENTS } from './lib/fanout.mjs';
import { startTidesync } from './lib/servers.mjs';

const { values } = parseArgs({ options: { clients: { type: 'string', default: '1000' }, changes: { type: 'string', default: '20' } } });
const clients = Number(values.clients);
const changes = Number(values.changes);
if (!Number.isInteger(clients) || clients < 1 || clients > MAX_CLIENTS) throw new Error(`--clients takes 1 to ${MAX_CLIENTS}`);
if (!Number.isInteger(changes) || changes < 1 || changes > 1000) throw new Error('--changes takes 1 to 1000');
const server = await startTidesync(['--max-live-feeds', String(clients + 10)]);
try {
  const result = await fanout({ base: server.url, pid: server.pid, clients, changes, log: (m) => process.stderr.write(`${m}\n`) });
  console.log(JSON.stringify(result, null, 2));
} finally {
  await server.stop();
}
