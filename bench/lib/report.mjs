// Turns results into the printed table, the README's markdown tables and the
// list of targets with met/missed. Targets are reported, never asserted.
import { median } from './stats.mjs';

const KB = 1000;

const ms = (v) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
const ratio = (v) => `${v >= 10 ? v.toFixed(1) : v.toFixed(2)}×`;
const bytes = (v) => (v >= 2 ** 20 ? `${(v / 2 ** 20).toFixed(1)} MiB` : `${(v / KB).toFixed(1)} kB`);

function find(results, id) {
  return results.find((r) => r.id === id);
}

function contender(results, benchId, id) {
  const b = find(results, benchId);
  return b && !b.error ? b.contenders.find((c) => c.id === id) : null;
}

// `met: null` marks a target whose benchmark was not run (`--only`).
function speedTarget(results, benchId, label, goal) {
  if (!find(results, benchId)) return { label, goal: `≥ ${goal}×`, value: 'not run', met: null };
  const c = contender(results, benchId, 'tidesync');
  if (!c) return { label, goal: `≥ ${goal}×`, value: 'failed', met: false };
  return { label, goal: `≥ ${goal}×`, value: ratio(c.speedup), met: c.speedup >= goal };
}

/** The targets of the issue, each with its value and met/missed. */
export function targets(results) {
  const size = find(results, 'size');
  const memory = find(results, 'memory');
  const memoryValue = !memory || memory.error ? 'failed'
    : `JS heap retained ${bytes(memory.heap.first.floor)} → ${bytes(memory.heap.second.floor)}, `
      + `wasm ${bytes(memory.wasm.first.peak)} → ${bytes(memory.wasm.second.peak)} (1st → 2nd half)`;
  return [
    speedTarget(results, 'writes.single', 'single puts vs raw IndexedDB (1 tx per put)', 0.9),
    speedTarget(results, 'writes.bulk', 'bulk write vs raw IndexedDB (1 tx)', 0.8),
    speedTarget(results, 'reads.all', 'all() vs raw IndexedDB getAll', 0.8),
    speedTarget(results, 'replay', 'replay vs PouchDB replicate.to (same server)', 5),
    speedTarget(results, 'pull', 'initial pull vs PouchDB replicate.from (same server)', 5),
    size
      ? { label: 'wasm + JS gzip', goal: '≤ 120 kB', value: size.error ? 'failed' : bytes(size.totalGzip), met: !size.error && size.totalGzip <= 120 * KB }
      : { label: 'wasm + JS gzip', goal: '≤ 120 kB', value: 'not run', met: null },
    memory
      ? { label: `memory flat during the ${memory.docs ?? '?'}-document pull`, goal: '2nd half ≤ 1.25× 1st', value: memoryValue, met: !memory.error && memory.flat }
      : { label: 'memory flat during a large pull', goal: '2nd half ≤ 1.25× 1st', value: 'not run', met: null },
  ];
}

// HTTP requests and the time spent in them (medians over the runs), for sync rows.
function httpNote(c) {
  const runs = c.extra.filter((e) => e.requests !== undefined);
  if (!runs.length) return '';
  return `${median(runs.map((e) => e.requests))} req, HTTP ${ms(median(runs.map((e) => e.httpMs)))} ms`;
}

// Latency rows: the median over runs of each run's p50 and p99.
function latencyRows(b) {
  if (b.error) return [[b.title, 'FAILED', b.error, '', '']];
  return b.contenders.map((c) => {
    const base = c.id === b.baseline ? 'baseline' : ratio(c.speedup);
    const note = c.crossServer ? ' (other server)' : '';
    return [c.label + note, ms(c.stats.median), ms(median(c.extra.map((e) => e.p99))), ms(median(c.extra.map((e) => e.max))), base];
  });
}
const LATENCY_HEAD = ['contender', 'p50 ms', 'p99 ms', 'max ms', 'speed vs baseline'];

function timedRows(b) {
  const wide = b.contenders.some((c) => c.extra.some((e) => e.requests !== undefined));
  if (b.error) return [[b.title, 'FAILED', b.error, '', '', '', ...(wide ? [''] : [])]];
  return b.contenders.map((c) => {
    const base = c.id === b.baseline ? 'baseline' : ratio(c.speedup);
    const note = c.diagnostic ? ' (diagnostic)' : c.crossServer ? ' (other server)' : '';
    return [c.label + note, ms(c.stats.median), ms(c.stats.min), ms(c.stats.max),
      rate(b, c.stats.median), base, ...(wide ? [httpNote(c)] : [])];
  });
}

// Throughput at the median: documents a second, or MB (10^6 bytes) a second
// for a benchmark that moves `bytes` (attachments).
function rate(b, medianMs) {
  if (b.bytes) {
    const mbs = b.bytes / 1e6 / (medianMs / 1000);
    return mbs >= 100 ? mbs.toFixed(0) : mbs >= 10 ? mbs.toFixed(1) : mbs.toFixed(2);
  }
  return Math.round(b.docs / (medianMs / 1000)).toLocaleString('en-US');
}

const TIMED_HEAD = ['contender', 'median ms', 'min ms', 'max ms', 'docs/s', 'speed vs baseline'];
const SYNC_HEAD = [...TIMED_HEAD, 'requests (median)'];
const byteHead = (head) => head.map((h) => (h === 'docs/s' ? 'MB/s' : h));

function memoryRows(m) {
  if (m.error) return [['FAILED', m.error, '', '', '', '']];
  const { heap, wasm } = m;
  return [
    ['JS heap retained (lowest sample)', bytes(heap.before), bytes(heap.first.floor), bytes(heap.second.floor), bytes(heap.afterGc),
      ratio(heap.second.floor / heap.first.floor)],
    ['JS heap peak (GC sawtooth)', bytes(heap.before), bytes(heap.first.peak), bytes(heap.second.peak), '',
      ratio(heap.second.peak / heap.first.peak)],
    ['wasm memory', bytes(wasm.before), bytes(wasm.first.peak), bytes(wasm.second.peak), bytes(wasm.afterGc),
      ratio(wasm.second.peak / wasm.first.peak)],
  ];
}
const MEMORY_HEAD = ['memory', 'before pull', '1st half', '2nd half', 'after pull + GC', '2nd vs 1st half'];

function sizeRows(s) {
  if (s.error) return [['FAILED', s.error, '', '']];
  return [
    ['wasm', bytes(s.wasmRaw), bytes(s.wasmGzip), ratio(s.wasmGzip / s.pouchdbMinGzip)],
    [`JS glue (${s.jsFiles.length} files)`, bytes(s.jsRaw), bytes(s.jsGzip), ratio(s.jsGzip / s.pouchdbMinGzip)],
    ['tidesync total', bytes(s.wasmRaw + s.jsRaw), bytes(s.totalGzip), ratio(s.totalGzip / s.pouchdbMinGzip)],
    ['pouchdb.min.js (baseline)', bytes(s.pouchdbMinRaw), bytes(s.pouchdbMinGzip), 'baseline'],
  ];
}
const SIZE_HEAD = ['package', 'raw', 'gzip -9', 'gzip vs baseline'];

// Fan-out: each change's deliveries by transport, then until the last client
// had it, then the server's memory.
function fanoutRows(f) {
  if (f.error) return [['FAILED', f.error, '', '', '']];
  const perClient = (f.connectedBytes - f.idleBytes) / f.clients;
  return [
    ...f.transports.map((t) => [`delivery to ${t.transport} clients`, String(t.clients), ms(t.p50), ms(t.p99), '']),
    ['until every client had a change', String(f.clients), ms(f.allDelivered.p50), '', ms(f.allDelivered.max)],
    ['server resident memory, idle → connected', '', '', '', `${bytes(f.idleBytes)} → ${bytes(f.connectedBytes)} (${bytes(perClient)} per client)`],
  ];
}
const FANOUT_HEAD = ['fan-out', 'clients', 'p50 ms', 'p99 ms', 'max / memory'];

// Columns of numbers (or `baseline`) align right, words left.
function rightAligned(head, rows) {
  const numeric = (v) => /^[\d.,]+( ms| kB| MiB|×)?$|^baseline$|^$/.test(String(v ?? ''));
  return head.map((_, i) => i > 0 && rows.every((r) => numeric(r[i])));
}

function textTable(head, rows) {
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => String(r[i] ?? '').length)));
  const right = rightAligned(head, rows);
  const line = (r) => r.map((v, i) => (right[i] ? String(v).padStart(widths[i]) : String(v).padEnd(widths[i]))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function mdTable(head, rows) {
  const line = (r) => `| ${r.join(' | ')} |`;
  const right = rightAligned(head, rows);
  return [line(head), line(head.map((_, i) => (right[i] ? '---:' : '---'))), ...rows.map(line)].join('\n');
}

function sections(data) {
  const out = [];
  for (const b of data.results.filter((r) => r.contenders || (r.error && !['memory', 'size', 'fanout'].includes(r.id)))) {
    if (b.latency) {
      out.push({ title: `${b.title} (median of ${data.config.runs} runs)`, head: LATENCY_HEAD, rows: latencyRows(b) });
      continue;
    }
    const rows = timedRows(b);
    const head = rows[0].length > TIMED_HEAD.length ? SYNC_HEAD : TIMED_HEAD;
    out.push({ title: `${b.title} (median of ${data.config.runs})`, head: b.bytes ? byteHead(head) : head, rows });
  }
  const m = find(data.results, 'memory');
  if (m) out.push({ title: `${m.title}${m.error ? '' : `: ${ms(m.ms)} ms, ${m.samples} samples`}`, head: MEMORY_HEAD, rows: memoryRows(m) });
  const f = find(data.results, 'fanout');
  if (f) out.push({ title: `${f.title}${f.error ? '' : `: every write PUT on the server, until each client's feed carried it; connected in ${ms(f.connectMs)} ms`}`, head: FANOUT_HEAD, rows: fanoutRows(f) });
  const s = find(data.results, 'size');
  if (s) out.push({ title: 'size', head: SIZE_HEAD, rows: sizeRows(s) });
  const t = targets(data.results);
  out.push({ title: 'targets (reported, not asserted)', head: ['target', 'goal', 'measured', ''], rows: t.map((x) => [x.label, x.goal, x.value, x.met === null ? 'not run' : x.met ? 'met' : 'MISSED']) });
  return out;
}

function machineLine(m) {
  return `${m.nproc} CPUs (${m.cpu}), ${m.memoryGiB} GiB, Chromium ${m.chromium}, Node ${m.node}, Linux ${m.kernel}`;
}

/** The plain-text report printed at the end of a run. */
export function textReport(data) {
  const parts = sections(data).map((s) => `${s.title}\n${textTable(s.head, s.rows)}`);
  return [`tidesync benchmarks, ${data.date}: ${machineLine(data.machine)}`, ...parts].join('\n\n');
}

/** The same report as markdown, for the README. */
export function markdownReport(data) {
  const parts = sections(data).map((s) => `**${s.title}**\n\n${mdTable(s.head, s.rows)}`);
  return [`Measured ${data.date.slice(0, 10)} on ${machineLine(data.machine)}; `
    + `N = ${data.config.n}, ${data.config.runs} runs, memory pull of ${data.config.pullN}.`, ...parts].join('\n\n');
}
