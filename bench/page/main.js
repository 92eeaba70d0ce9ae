// The bench page's entry: loads the package and PouchDB, then exposes every
// benchmark function as `window.bench[name](...args)` for the node runner.
import * as local from './local.js';
import * as sync from './sync.js';
import * as attachments from './attachments.js';
import * as memory from './memory.js';
import * as live from './live.js';
import { wasmBytes } from './tidesync.js';

if (typeof window.PouchDB !== 'function') throw new Error('PouchDB did not load');
window.bench = { ...local, ...sync, ...attachments, ...memory, ...live, wasmBytes };
window.benchReady = true;
