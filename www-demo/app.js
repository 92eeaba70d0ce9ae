// The demo app: building inspections stored with tidesync, synced with the
// reference server that serves this page.
import init, { Tidesync } from './pkg/index.js';

const $ = (id) => document.getElementById(id);
const remote = `${location.origin}/inspections`;

function render(list, docs) {
  list.replaceChildren(...docs.map((doc) => {
    const li = document.createElement('li');
    li.dataset.id = doc._id;
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = doc.building;
    const del = document.createElement('button');
    del.textContent = 'Delete';
    del.className = 'secondary';
    del.onclick = () => db.delete(doc._id).then(refresh);
    li.append(name, del);
    return li;
  }));
}

let db;
async function refresh() {
  const [docs, pending, conflicts] = await Promise.all([db.all(), db.pendingCount(), db.conflicts()]);
  render($('inspections'), docs);
  $('pending').textContent = `${pending} pending`;
  $('conflicts').hidden = conflicts.length === 0;
  $('conflict-list').replaceChildren(...conflicts.map((c) => {
    const li = document.createElement('li');
    li.textContent = `${c.id}: mine ${JSON.stringify(c.local)} / theirs ${JSON.stringify(c.remote)}`;
    const keep = document.createElement('button');
    keep.textContent = 'Keep mine';
    keep.onclick = () => db.resolve(c.id, c.local).then(refresh);
    const theirs = document.createElement('button');
    theirs.textContent = 'Keep theirs';
    theirs.className = 'secondary';
    theirs.onclick = () => db.discardLocal(c.id).then(refresh);
    li.append(keep, theirs);
    return li;
  }));
}

async function syncNow() {
  const report = await db.sync();
  $('status').textContent = report.errors.length ? `offline: ${report.errors[0].message}` : `synced (${new Date().toLocaleTimeString()})`;
  $('status').className = report.errors.length ? 'offline' : '';
  await refresh();
}

await init();
db = await Tidesync.open({ name: 'demo-inspections', remote });
db.on('change', () => refresh());
$('new-inspection').onsubmit = async (event) => {
  event.preventDefault();
  await db.put({ building: $('building').value, extinguishers: [], createdAt: new Date().toISOString() });
  $('building').value = '';
  await refresh();
};
$('sync').onclick = syncNow;
await refresh();
await syncNow().catch((e) => { $('status').textContent = e.message; });
