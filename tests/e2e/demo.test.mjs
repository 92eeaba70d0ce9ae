// The offline demo page (www-demo) in a real browser, served with the built
// package by the reference server: offline writes that survive a reload, the
// page itself loading offline, two devices making a conflict and resolving it
// each way the dialog offers, photos taken offline reaching the other device,
// and the layout on a phone and on a desktop. Screenshots land in test-results/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, launch, artifacts, root, eventually, serverDocs, lacks } from './harness.mjs';
import { isOptimisedBuild, noisePng } from './demo-support.mjs';
import { provision } from '../../scripts/demo-setup.mjs';

let browser;
const servers = [];
let server; // the current test's
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); for (const s of servers) s.stop(); });

const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 375, height: 812 };

/**
 * A server of its own (an empty `inspections` database, so screenshots show
 * only this test's data) and a fresh browser profile on the demo, once both
 * devices are open.
 */
async function openDemo(viewport = DESKTOP) {
  // As `scripts/demo` serves it: with each database's WebSocket, an admin,
  // and the demo's people as members of the shared database (fewer PBKDF2
  // rounds: the test server is a debug build).
  server = await startServer(['--websocket', 'true', '--admin', 'admin:demo-test-admin', '--pbkdf2-iterations', '1000']);
  servers.push(server);
  await provision(server.url, server.admin);
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.errors = [];
  page.wasm = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.on('response', async (r) => { if (r.url().endsWith('.wasm')) page.wasm.push({ url: r.url(), status: r.status() }); });
  await page.goto(`${server.url}/_demo/`);
  await ready(page);
  return { context, page };
}

const ready = (page) => page.waitForFunction(() => window.demo?.ready === true, null, { timeout: 20000 });
const pane = (page, name) => page.locator(`[data-device=device-${name}]`);
const card = (page, name, building) => pane(page, name).locator('.inspection', { hasText: building });
const status = (page, name) => pane(page, name).locator('.status');

async function setNetwork(page, name, on) {
  const toggle = pane(page, name).locator('.network-toggle');
  if ((await toggle.isChecked()) !== on) await pane(page, name).locator('.switch').click();
  assert.equal(await toggle.isChecked(), on);
}

/** Waits until a device has nothing pending and no conflict. */
async function settled(page, name) {
  await page.waitForFunction((n) => {
    const s = document.querySelector(`[data-device=device-${n}] .status`);
    return s?.dataset.pending === '0' && s.dataset.conflicts === '0' && s.dataset.state !== 'syncing';
  }, name, { timeout: 20000 });
}

/** Fills the open editor dialog; `extinguishers` rows are added to those already there. */
async function fillEditor(page, { building, area, notes, extinguishers = [], statusOf = {} }) {
  const dialog = page.locator('#editor-dialog');
  await dialog.waitFor();
  if (building !== undefined) await dialog.locator('[name=building]').fill(building);
  if (area !== undefined) await dialog.locator('[name=area]').fill(area);
  if (notes !== undefined) await dialog.locator('[name=notes]').fill(notes);
  for (const { location, status: state = 'ok' } of extinguishers) {
    await dialog.locator('.add-extinguisher').click();
    const row = dialog.locator('.ext-row').last();
    await row.locator('[name=location]').fill(location);
    await row.locator('select').selectOption(state);
  }
  for (const [tag, state] of Object.entries(statusOf)) {
    const row = dialog.locator('.ext-row').filter({ has: page.locator(`[name=tag][value="${tag}"]`) });
    await row.locator('select').selectOption(state);
  }
  await dialog.locator('button[value=save]').click();
  await dialog.waitFor({ state: 'hidden' });
}

async function createInspection(page, name, fields) {
  await pane(page, name).locator('.new-inspection').click();
  // A click the app loses would be a bug: keep what the page showed and said.
  await page.locator('#editor-dialog').waitFor({ timeout: 10000 }).catch(async (error) => {
    await page.screenshot({ path: join(artifacts, `demo-lost-click-${name}.png`), fullPage: true });
    throw new Error(`the editor did not open after "new inspection" on device ${name}; page errors: ${JSON.stringify(page.errors)}; ${error.message}`);
  });
  await fillEditor(page, fields);
  await card(page, name, fields.building).waitFor();
}

async function editInspection(page, name, building, fields) {
  await card(page, name, building).locator('[data-action=edit]').click();
  await fillEditor(page, fields);
}

const docOn = (page, name, building) => page.evaluate(async ({ name, building }) => {
  const docs = await window.demo.devices[`device-${name}`].db.all();
  return docs.find((d) => d.building === building) ?? null;
}, { name, building });

const withoutRev = ({ _rev, ...rest }) => rest;

const other = (name) => (name === 'a' ? 'b' : 'a');

/**
 * Both devices hold one synced inspection (FE-1, FE-2, notes 'First visit.');
 * `offline` goes offline, the other device makes `onlineEdit` and syncs it,
 * then `offline` makes `offlineEdit` and comes back online.
 */
async function editOnBoth(page, building, { offline, onlineEdit, offlineEdit }) {
  const online = other(offline);
  await createInspection(page, online, {
    building, area: 'Ground floor', notes: 'First visit.',
    extinguishers: [{ location: 'Reception' }, { location: 'Corridor' }],
  });
  await settled(page, online);
  await pane(page, offline).locator('.sync-now').click();
  await card(page, offline, building).waitFor();
  await setNetwork(page, offline, false);
  await editInspection(page, online, building, onlineEdit);
  await settled(page, online);
  await editInspection(page, offline, building, offlineEdit);
  await setNetwork(page, offline, true);
}

/**
 * A changes an inspection (FE-2 expired, notes) while B is offline and changes
 * it too (adds FE-3, other notes); B comes back online and meets the conflict.
 */
async function makeConflict(page, building = 'Riverside clinic') {
  await editOnBoth(page, building, {
    offline: 'b',
    onlineEdit: { notes: 'FE-2 is past its date.', statusOf: { 'FE-2': 'expired' } },
    offlineEdit: { notes: 'Added the lab extinguisher.', extinguishers: [{ location: 'Lab', status: 'missing' }] },
  });
  await pane(page, 'b').locator('.conflict-banner').waitFor({ timeout: 20000 });
  await card(page, 'b', building).locator('[data-sync=conflicted]').waitFor();
  return building;
}

async function openConflict(page, building) {
  await card(page, 'b', building).locator('[data-action=resolve]').click();
  const dialog = page.locator('#conflict-dialog');
  // As for "new inspection": a click the app loses is kept with what the page showed and held.
  await dialog.waitFor().catch(async (error) => {
    await page.screenshot({ path: join(artifacts, 'demo-lost-click-resolve.png'), fullPage: true });
    const held = await page.evaluate(async () => (await window.demo.devices['device-b'].db.conflicts()).map((c) => c.id));
    throw new Error(`the conflict dialog did not open after "resolve" on device b; conflicts held: ${JSON.stringify(held)}; card: ${await card(page, 'b', building).getAttribute('data-id')}; page errors: ${JSON.stringify(page.errors)}; ${error.message}`);
  });
  return dialog;
}

/** After a resolution on `on`: it pushes it, the other pulls it, both hold the same document as the server. */
async function converged(page, building, on = 'b') {
  await settled(page, on);
  await pane(page, other(on)).locator('.sync-now').click();
  const [a, b] = await eventually(async () => {
    const docs = [await docOn(page, 'a', building), await docOn(page, 'b', building)];
    return docs[0] && docs[1] && docs[0]._rev === docs[1]._rev ? docs : null;
  }, 20000, 'both devices to hold the resolution');
  assert.deepEqual(a, b);
  const onServer = Object.values(await serverDocs(server, 'inspections')).find((d) => d._id === a._id);
  assert.deepEqual(withoutRev(onServer), withoutRev(a));
  assert.equal(onServer._rev, a._rev);
  await card(page, other(on), building).locator('[data-sync=synced]').waitFor();
  return a;
}

test('an inspection created on one device shows on the other through its WebSocket, no button pressed', { timeout: 120000 }, async () => {
  const { context, page } = await openDemo();
  for (const name of ['a', 'b']) {
    await page.waitForSelector(`[data-device=device-${name}] .status[data-transport=websocket]`, { timeout: 20000 });
    assert.equal(await status(page, name).locator('.transport').innerText(), 'Live');
  }
  await createInspection(page, 'a', { building: 'Lighthouse depot', area: 'Tower', notes: 'Seen live.' });
  await card(page, 'b', 'Lighthouse depot').waitFor({ timeout: 15000 });
  assert.deepEqual(page.errors, []);
  await context.close();
});

test('each device signs in as its person to the shared database, which refuses anyone else', { timeout: 120000 }, async () => {
  const { context, page } = await openDemo();
  for (const name of ['a', 'b']) {
    await page.waitForSelector(`[data-device=device-${name}] .status[data-transport=websocket]`, { timeout: 20000 });
  }
  const security = await (await server.fetch('/inspections/_security')).json();
  assert.deepEqual(security.members.names.toSorted(), ['agnes', 'joe']);
  const basic = (credentials) => ({ authorization: `Basic ${Buffer.from(credentials).toString('base64')}` });
  const anonymous = await fetch(`${server.url}/inspections/_all_docs`);
  assert.equal(anonymous.status, 401);
  assert.equal((await fetch(`${server.url}/inspections/_all_docs`, { headers: basic('agnes:wrong') })).status, 401);
  assert.equal((await fetch(`${server.url}/inspections/_all_docs`, { headers: basic('joe:joe-demo') })).status, 200);
  await createInspection(page, 'a', { building: 'Signed-in depot', area: 'Gate', notes: 'By Agnes.' });
  await card(page, 'b', 'Signed-in depot').waitFor({ timeout: 15000 });
  assert.deepEqual(page.errors, []);
  await context.close();
});

test('the server hands the demo the optimised package build', { timeout: 120000, skip: lacks('responses') }, async () => {
  const { context, page } = await openDemo();
  const served = Buffer.from(await (await fetch(`${server.url}/_demo/pkg/tidesync_bg.wasm`)).arrayBuffer());
  assert.ok(served.equals(readFileSync(join(root, 'pkg', 'tidesync_bg.wasm'))), 'the server serves ./pkg');
  assert.ok(isOptimisedBuild(served), './pkg holds the wasm-opt output (no producers or name section)');
  assert.deepEqual(page.wasm.map((w) => [new URL(w.url).pathname, w.status]), [['/_demo/pkg/tidesync_bg.wasm', 200]]);
  await context.close();
});

test('an inspection created offline survives a reload, then syncs when the device is back online', { timeout: 120000 }, async () => {
  const { context, page } = await openDemo();
  const building = 'Town hall';
  await setNetwork(page, 'a', false);
  await assert.doesNotReject(page.waitForSelector('[data-device=device-a] .status[data-state=offline]'));
  await createInspection(page, 'a', {
    building, area: 'Basement', notes: 'Boiler room checked.',
    extinguishers: [{ location: 'Boiler room' }, { location: 'Archive', status: 'damaged' }],
  });
  await card(page, 'a', building).locator('[data-sync=pending]').waitFor();
  assert.equal(await status(page, 'a').getAttribute('data-pending'), '1');
  await pane(page, 'a').locator('.outbox tbody tr', { hasText: building }).waitFor();
  assert.equal(Object.values(await serverDocs(server, 'inspections')).some((d) => d.building === building), false, 'nothing left the device');

  await page.reload();
  await ready(page);
  await card(page, 'a', building).locator('[data-sync=pending]').waitFor();
  assert.equal(await pane(page, 'a').locator('.network-toggle').isChecked(), false, 'the switch stays off across the reload');
  assert.equal(await status(page, 'a').getAttribute('data-state'), 'offline');
  assert.equal(await pane(page, 'a').locator('.outbox tbody tr').count(), 1);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(Object.values(await serverDocs(server, 'inspections')).some((d) => d.building === building), false, 'still nothing sent after the reload');

  await setNetwork(page, 'a', true);
  await settled(page, 'a');
  await card(page, 'a', building).locator('[data-sync=synced]').waitFor();
  assert.equal(await pane(page, 'a').locator('.outbox tbody tr').count(), 0);
  const onServer = Object.values(await serverDocs(server, 'inspections')).find((d) => d.building === building);
  assert.ok(onServer, 'the server holds the inspection');
  assert.equal(onServer.type, 'inspection');
  assert.equal(onServer.notes, 'Boiler room checked.');
  assert.deepEqual(onServer.extinguishers.map((e) => [e.tag, e.location, e.status]), [['FE-1', 'Boiler room', 'ok'], ['FE-2', 'Archive', 'damaged']]);

  await pane(page, 'b').locator('.sync-now').click();
  await card(page, 'b', building).locator('[data-sync=synced]').waitFor();
  await page.screenshot({ path: join(artifacts, 'demo-desktop.png'), fullPage: true });
  assert.deepEqual(page.errors, []);
  await context.close();
});

test('with the browser offline the page still loads (service worker) and the queue drains when back', { timeout: 120000, skip: lacks('offline-load') }, async () => {
  const { context, page } = await openDemo();
  await page.waitForSelector('html[data-offline-shell]', { timeout: 20000 });
  assert.equal(await page.getAttribute('html', 'data-offline-shell'), 'ready', 'the app shell is cached');
  await context.setOffline(true);
  await page.reload();
  await ready(page);
  assert.equal(await page.locator('#browser-net').getAttribute('data-online'), 'false');
  const building = 'Fire station no. 4';
  await createInspection(page, 'b', { building, extinguishers: [{ location: 'Garage' }] });
  await card(page, 'b', building).locator('[data-sync=pending]').waitFor();
  assert.equal(await status(page, 'b').getAttribute('data-state'), 'offline');
  await page.screenshot({ path: join(artifacts, 'demo-browser-offline.png'), fullPage: true });
  await context.setOffline(false);
  await settled(page, 'b');
  await card(page, 'b', building).locator('[data-sync=synced]').waitFor();
  assert.ok(Object.values(await serverDocs(server, 'inspections')).some((d) => d.building === building));
  assert.deepEqual(page.errors, []);
  await context.close();
});

test('both devices edit one inspection: the dialog shows base, mine and theirs; merge keeps both changes', { timeout: 120000 }, async () => {
  const { context, page } = await openDemo();
  const building = await makeConflict(page);
  const dialog = await openConflict(page, building);
  const notes = dialog.locator('[data-field=notes]');
  assert.equal(await notes.getAttribute('data-change'), 'clash');
  assert.equal(await notes.locator('.cell.base').innerText(), 'First visit.');
  assert.equal(await notes.locator('.cell.mine').innerText(), 'Added the lab extinguisher.');
  assert.equal(await notes.locator('.cell.theirs').innerText(), 'FE-2 is past its date.');
  assert.equal(await notes.locator('.cell.is-clash').count(), 2, 'both sides of the clash highlighted');
  const list = dialog.locator('[data-field=extinguishers]');
  assert.equal(await list.getAttribute('data-change'), 'merged', 'different extinguishers changed: no clash');
  assert.equal(await list.locator('.cell.mine li.is-added').innerText().then((t) => t.includes('FE-3')), true);
  assert.equal(await list.locator('.cell.theirs li.is-changed').innerText().then((t) => t.includes('FE-2')), true);
  assert.match(await list.locator('.merge-preview').innerText(), /FE-2[\s\S]*Expired[\s\S]*FE-3[\s\S]*Missing/, 'the merge previewed');
  assert.equal(await dialog.getAttribute('data-clashes'), '1', 'only the notes clash (the stamps do not count)');
  await page.screenshot({ path: join(artifacts, 'demo-desktop-conflict.png') });
  await notes.locator('input[value=theirs]').check();
  await dialog.locator('button[value=merge]').click();
  await dialog.waitFor({ state: 'hidden' });
  const doc = await converged(page, building);
  assert.equal(doc.notes, 'FE-2 is past its date.', 'the clash took the side picked');
  assert.deepEqual(doc.extinguishers.map((e) => [e.tag, e.status]), [['FE-1', 'ok'], ['FE-2', 'expired'], ['FE-3', 'missing']]);
  assert.equal(await pane(page, 'b').locator('.conflict-banner').isHidden(), true);
  await page.screenshot({ path: join(artifacts, 'demo-desktop-resolved.png'), fullPage: true });
  assert.deepEqual(page.errors, []);
  await context.close();
});

test('a conflict resolved with keep theirs, keep mine, or edited JSON ends the same on both devices', { timeout: 120000 }, async () => {
  const { context, page } = await openDemo();

  let building = await makeConflict(page, 'Harbour school');
  let dialog = await openConflict(page, building);
  await dialog.locator('button[value=theirs]').click();
  let doc = await converged(page, building);
  assert.equal(doc.notes, 'FE-2 is past its date.');
  assert.deepEqual(doc.extinguishers.map((e) => e.tag), ['FE-1', 'FE-2']);

  building = await makeConflict(page, 'Central library');
  dialog = await openConflict(page, building);
  await dialog.locator('button[value=mine]').click();
  doc = await converged(page, building);
  assert.equal(doc.notes, 'Added the lab extinguisher.');
  assert.deepEqual(doc.extinguishers.map((e) => [e.tag, e.status]), [['FE-1', 'ok'], ['FE-2', 'ok'], ['FE-3', 'missing']]);

  building = await makeConflict(page, 'Riverside clinic');
  dialog = await openConflict(page, building);
  await dialog.locator('button[value=edit]').click();
  const textarea = dialog.locator('.json-editor textarea');
  const merged = JSON.parse(await textarea.inputValue());
  assert.equal(merged.notes, 'Added the lab extinguisher.', 'the editor starts from the merge (mine on the clash)');
  await textarea.fill('{ not json');
  await dialog.locator('button[value=save-edit]').click();
  assert.match(await dialog.locator('.json-error').innerText(), /Not saved/);
  await textarea.fill(JSON.stringify({ ...merged, notes: 'Agreed on the phone: both findings stand.' }, null, 2));
  await dialog.locator('button[value=save-edit]').click();
  await dialog.waitFor({ state: 'hidden' });
  doc = await converged(page, building);
  assert.equal(doc.notes, 'Agreed on the phone: both findings stand.');
  assert.deepEqual(doc.extinguishers.map((e) => [e.tag, e.status]), [['FE-1', 'ok'], ['FE-2', 'expired'], ['FE-3', 'missing']]);
  assert.deepEqual(page.errors, []);
  await context.close();
});

test('conflict policies: "merge" unites edits of different fields, "supervisor wins" keeps the supervisor\'s version', { timeout: 120000 }, async () => {
  const { context, page } = await openDemo();
  await page.selectOption('#policy', 'merge');
  await page.waitForLoadState('load');
  await ready(page);
  assert.equal(await page.inputValue('#policy'), 'merge', 'the choice survives the reload');
  await editOnBoth(page, 'Harbour school', {
    offline: 'b',
    onlineEdit: { statusOf: { 'FE-2': 'expired' } },
    offlineEdit: { extinguishers: [{ location: 'Gym', status: 'missing' }] },
  });
  await pane(page, 'b').locator('.notice[data-strategy=merge]').waitFor({ timeout: 20000 });
  let doc = await converged(page, 'Harbour school');
  assert.deepEqual(doc.extinguishers.map((e) => [e.tag, e.status]), [['FE-1', 'ok'], ['FE-2', 'expired'], ['FE-3', 'missing']]);
  assert.equal(await pane(page, 'b').locator('.conflict-banner').isHidden(), true, 'nobody was asked');

  await page.selectOption('#policy', 'supervisor');
  await page.waitForLoadState('load');
  await ready(page);
  // Agnes (inspector, device A) edits offline over Joe's (supervisor, device B) newer change: Joe's stands.
  await editOnBoth(page, 'Central library', {
    offline: 'a',
    onlineEdit: { notes: 'Supervisor: all fine.' },
    offlineEdit: { notes: 'Inspector: FE-1 is damaged.', statusOf: { 'FE-1': 'damaged' } },
  });
  await pane(page, 'a').locator('.notice[data-strategy]').waitFor({ timeout: 20000 });
  doc = await converged(page, 'Central library', 'a');
  assert.equal(doc.notes, 'Supervisor: all fine.');
  assert.equal(doc.extinguishers[0].status, 'ok');
  assert.deepEqual(doc.editor, { id: 'joe', role: 'supervisor' });
  await page.screenshot({ path: join(artifacts, 'demo-desktop-policy.png'), fullPage: true });
  assert.deepEqual(page.errors, []);
  await context.close();
});

test('an edit saved after a newer version arrived is not lost: it reopens merged into that version', { timeout: 120000 }, async () => {
  const { context, page } = await openDemo();
  const building = 'Dockside depot';
  await createInspection(page, 'a', { building, area: 'Ground floor', notes: 'First visit.' });
  await settled(page, 'a');
  await pane(page, 'b').locator('.sync-now').click();
  await card(page, 'b', building).waitFor();
  // The inspector opens the editor and changes the area, without saving yet.
  await card(page, 'a', building).locator('[data-action=edit]').click();
  const dialog = page.locator('#editor-dialog');
  await dialog.locator('[name=area]').fill('Basement');
  // Meanwhile the supervisor's device changes the notes, and the change reaches the inspector's device.
  const id = (await docOn(page, 'b', building))._id;
  await page.evaluate(async (id) => {
    const { db } = window.demo.devices['device-b'];
    const doc = await db.get(id);
    await db.put({ ...doc, notes: 'FE-2 checked.' });
    await db.sync();
  }, id);
  await eventually(async () => (await docOn(page, 'a', building))?.notes === 'FE-2 checked.', 20000, 'the change to reach device a');
  await dialog.locator('button[value=save]').click();
  // The save named the version the editor opened on: refused, and reopened merged.
  await pane(page, 'a').locator('.notice', { hasText: 'changed while you were editing' }).waitFor();
  await dialog.waitFor();
  assert.equal(await dialog.locator('[name=area]').inputValue(), 'Basement', 'the edit is kept');
  assert.equal(await dialog.locator('[name=notes]').inputValue(), 'FE-2 checked.', 'the newer version is merged in');
  await dialog.locator('button[value=save]').click();
  await dialog.waitFor({ state: 'hidden' });
  const doc = await converged(page, building, 'a');
  assert.equal(doc.area, 'Basement');
  assert.equal(doc.notes, 'FE-2 checked.');
  assert.deepEqual(page.errors, []);
  await context.close();
});

test('delete: asks first, then the deletion syncs to the server and the other device', { timeout: 120000 }, async () => {
  const { context, page } = await openDemo();
  const building = 'Old warehouse';
  await createInspection(page, 'a', { building });
  await settled(page, 'a');
  await pane(page, 'b').locator('.sync-now').click();
  await card(page, 'b', building).waitFor();
  await card(page, 'a', building).locator('[data-action=delete]').click();
  await page.locator('#confirm-dialog button[value=cancel]').click();
  assert.equal(await card(page, 'a', building).count(), 1, 'cancel keeps it');
  await card(page, 'a', building).locator('[data-action=delete]').click();
  await page.locator('#confirm-dialog button[value=delete]').click();
  await card(page, 'a', building).waitFor({ state: 'detached' });
  await settled(page, 'a');
  assert.equal(Object.values(await serverDocs(server, 'inspections')).some((d) => d.building === building), false);
  await pane(page, 'b').locator('.sync-now').click();
  await card(page, 'b', building).waitFor({ state: 'detached' });
  assert.deepEqual(page.errors, []);
  await context.close();
});

test('at 375 px the panes stack, nothing scrolls sideways, and the conflict dialog fits', { timeout: 120000 }, async () => {
  const { context, page } = await openDemo(PHONE);
  const building = await makeConflict(page);
  const [a, b] = [await pane(page, 'a').boundingBox(), await pane(page, 'b').boundingBox()];
  assert.ok(b.y >= a.y + a.height, 'device B below device A');
  assert.ok(a.width <= PHONE.width && b.width <= PHONE.width);
  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.equal(await overflow(), 0, 'no horizontal scrolling');
  await page.screenshot({ path: join(artifacts, 'demo-mobile.png'), fullPage: true });
  const dialog = await openConflict(page, building);
  const box = await dialog.boundingBox();
  assert.ok(box.x >= 0 && box.x + box.width <= PHONE.width, `the dialog fits the width (${JSON.stringify(box)})`);
  assert.ok(box.height <= PHONE.height);
  for (const action of ['mine', 'theirs', 'merge', 'edit']) {
    const button = await dialog.locator(`button[value=${action}]`).boundingBox();
    assert.ok(button.x >= 0 && button.x + button.width <= PHONE.width && button.y + button.height <= PHONE.height, `${action} is on screen`);
  }
  await page.screenshot({ path: join(artifacts, 'demo-mobile-conflict.png') });
  await dialog.locator('button[value=merge]').click();
  await converged(page, building);
  assert.deepEqual(page.errors, []);
  await context.close();
});

/**
 * SHA-256 (hex) of the bytes the first thumbnail of an inspection on a device
 * shows, read in the page through the img's object URL; null while there is
 * none or its URL cannot be read (replaced by a re-render meanwhile).
 */
const shownPhotoSha = (page, name, building) => page.evaluate(async ({ name, building }) => {
  const card = [...document.querySelectorAll(`[data-device=device-${name}] .inspection`)]
    .find((li) => li.querySelector('.building')?.textContent === building);
  const img = card?.querySelector('.photo img');
  if (!img) return null;
  try {
    const bytes = await (await fetch(img.src)).arrayBuffer();
    return [...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');
  } catch {
    return null;
  }
}, { name, building });

const attachmentsOn = (page, name, id) => page.evaluate(({ name, id }) => window.demo.devices[`device-${name}`].db.attachments(id), { name, id });

test('a photo added offline on device A waits to upload, reaches device B byte for byte once A is back online, and its removal on B reaches A', { timeout: 120000 }, async () => {
  const { context, page } = await openDemo(PHONE);
  const photo = noisePng(40, 7);
  const sha = createHash('sha256').update(photo).digest('hex');
  const building = 'Boiler house';
  await createInspection(page, 'a', { building, area: 'Plant room', notes: 'First visit.' });
  await settled(page, 'a');
  await card(page, 'b', building).waitFor({ timeout: 15000 });
  const { _id: id } = await docOn(page, 'a', building);

  await setNetwork(page, 'a', false);
  await page.waitForSelector('[data-device=device-a] .status[data-state=offline]');
  await card(page, 'a', building).locator('[data-action=edit]').click();
  const dialog = page.locator('#editor-dialog');
  await dialog.waitFor();
  await dialog.locator('.photos-empty').waitFor();
  const input = dialog.getByLabel('Add photo');
  assert.equal(await input.getAttribute('type'), 'file');
  assert.equal(await input.getAttribute('accept'), 'image/*');
  assert.equal(await input.getAttribute('capture'), 'environment');
  await input.setInputFiles({ name: 'blocked-exit.png', mimeType: 'image/png', buffer: photo });
  // Stored at once, offline: the editor shows it waiting to upload.
  const inEditor = dialog.locator('.photo');
  await inEditor.locator('.photo-pending').waitFor();
  assert.equal(await inEditor.count(), 1);
  assert.equal(await inEditor.locator('.photo-pending').textContent(), 'Waiting to upload');
  assert.equal(await inEditor.locator('img').getAttribute('alt'), 'Photo 1 of this inspection, waiting to upload');
  const box = await dialog.boundingBox();
  assert.ok(box.x >= 0 && box.x + box.width <= PHONE.width, `the editor fits the width (${JSON.stringify(box)})`);
  await page.screenshot({ path: join(artifacts, 'demo-mobile-photo-editor.png') });
  // Saving the edit after the photo changed the revision is no conflict: photos are not part of the body.
  await dialog.locator('[name=notes]').fill('The exit by the boiler is blocked.');
  await dialog.locator('button[value=save]').click();
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(await pane(page, 'a').locator('.notice', { hasText: 'changed while you were editing' }).count(), 0);

  const onA = card(page, 'a', building);
  await onA.locator('.photo img').waitFor();
  assert.equal(await onA.locator('.photo').count(), 1);
  assert.equal(await onA.locator('.photo-pending').textContent(), 'Waiting to upload');
  assert.equal(await onA.locator('.photo img').getAttribute('alt'), `Photo 1 of ${building}, waiting to upload`);
  await onA.locator('[data-sync=pending]').waitFor();
  // The photo showed (and made the card pending) before the save: the save
  // lands after the editor closes, and is waited for by what it shows.
  await onA.locator('.notes', { hasText: 'The exit by the boiler is blocked.' }).waitFor();
  assert.equal(await onA.locator('.notes').textContent(), 'The exit by the boiler is blocked.');
  await page.waitForFunction((sel) => document.querySelector(sel)?.naturalWidth === 40, `[data-device=device-a] .inspection[data-id="${id}"] .photo img`);
  assert.equal(await shownPhotoSha(page, 'a', building), sha, 'device A shows the bytes it took');
  const [pendingInfo] = await attachmentsOn(page, 'a', id);
  assert.equal(pendingInfo.pending, true);
  assert.equal(pendingInfo.contentType, 'image/png');
  assert.equal(pendingInfo.length, photo.length);
  assert.match(pendingInfo.name, /^photo-\d+-[a-z0-9]+\.png$/);
  assert.equal((await serverDocs(server, 'inspections'))[id]._attachments, undefined, 'nothing left device A');
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth), 0, 'no horizontal scrolling');
  await page.screenshot({ path: join(artifacts, 'demo-mobile-photo-waiting.png'), fullPage: true });

  await setNetwork(page, 'a', true);
  await settled(page, 'a');
  await onA.locator('.photo-pending').waitFor({ state: 'detached' });
  assert.equal(await onA.locator('.photo img').count(), 1);
  const onServer = (await serverDocs(server, 'inspections'))[id];
  assert.equal(onServer.notes, 'The exit by the boiler is blocked.');
  assert.deepEqual(Object.keys(onServer._attachments ?? {}), [pendingInfo.name]);
  assert.equal(onServer._attachments[pendingInfo.name].content_type, 'image/png');
  const served = Buffer.from(await (await server.fetch(`/inspections/${id}/${pendingInfo.name}`)).arrayBuffer());
  assert.ok(served.equals(photo), 'the server holds the bytes taken');

  // Device B shows it (pulled live, downloaded eagerly), with the same bytes.
  const onB = card(page, 'b', building);
  await onB.locator('.photo img').waitFor({ timeout: 20000 });
  assert.equal(await eventually(async () => ((await shownPhotoSha(page, 'b', building)) === sha ? 'same' : null), 10000, 'device B to show the bytes taken on A'), 'same');
  assert.equal(await onB.locator('.photo-pending').count(), 0);
  assert.equal(await onB.locator('.notes').textContent(), 'The exit by the boiler is blocked.');
  const [onBInfo] = await attachmentsOn(page, 'b', id);
  assert.deepEqual([onBInfo.name, onBInfo.stored, onBInfo.pending, onBInfo.length], [pendingInfo.name, true, false, photo.length]);
  const shownOnB = await onB.locator('.photo img').getAttribute('src');

  await onB.getByRole('button', { name: `Remove photo 1 of ${building}` }).click();
  await onB.locator('.photo').waitFor({ state: 'detached' });
  await settled(page, 'b');
  await onA.locator('.photo').waitFor({ state: 'detached', timeout: 20000 });
  assert.deepEqual(await attachmentsOn(page, 'a', id), []);
  assert.equal((await serverDocs(server, 'inspections'))[id]._attachments, undefined, 'removed on the server');
  const revoked = await page.evaluate((src) => fetch(src).then(() => false, () => true), shownOnB);
  assert.equal(revoked, true, 'device B revoked the object URL of the thumbnail it removed');
  assert.equal((await docOn(page, 'a', building)).notes, 'The exit by the boiler is blocked.', 'the document stays');
  assert.deepEqual(page.errors, []);
  await context.close();
});
