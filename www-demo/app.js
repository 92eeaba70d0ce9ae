// The demo app: fire-safety inspections on two simulated devices, each with its
// own local tidesync database, syncing with the reference server that serves
// this page. A service worker keeps the page itself loadable offline.
import init from './pkg/index.js';
import { Device } from './device.js';
import { confirmDelete, editInspection } from './editor-dialog.js';
import { resolveConflict } from './conflict-dialog.js';
import { DATABASE, DEVICES } from './people.js';

const REMOTE = `${location.origin}/${DATABASE}`;

/** Conflict policies a visitor can pick; they apply when the databases open. */
const POLICIES = {
  manual: { strategy: 'manual' },
  merge: { strategy: 'merge' },
  supervisor: { strategy: { priority: { field: 'editor.role', order: ['supervisor', 'inspector'], fallback: 'merge' } } },
};
const POLICY_KEY = 'tidesync-demo:policy';

const $ = (selector) => document.querySelector(selector);

function showBrowserConnectivity() {
  const pill = $('#browser-net');
  pill.dataset.online = String(navigator.onLine);
  pill.textContent = navigator.onLine ? 'Browser online' : 'Browser offline';
}

/** Resolves once `worker` is activated (true) or has failed to install (false). */
function settledWorker(worker) {
  return new Promise((resolve) => {
    const check = () => {
      if (worker.state === 'activated' || worker.state === 'redundant') resolve(worker.state === 'activated');
    };
    worker.addEventListener('statechange', check);
    check();
  });
}

/**
 * Registers the service worker that caches the app shell; resolves to whether
 * one is active. Offline, the update check fails but the installed worker serves on.
 */
async function registerOfflineShell() {
  if (!('serviceWorker' in navigator)) return false;
  let registration;
  try {
    registration = await navigator.serviceWorker.register('sw.js');
  } catch (e) {
    registration = await navigator.serviceWorker.getRegistration();
    if (!registration?.active) console.warn('this page will not load offline:', e);
    return Boolean(registration?.active);
  }
  const worker = registration.installing ?? registration.waiting;
  if (worker) await settledWorker(worker);
  if (!registration.active) console.warn('this page will not load offline: the service worker did not install');
  return Boolean(registration.active);
}

async function clearLocalData(devices) {
  for (const device of Object.values(devices)) {
    device.forget();
    await device.db.destroy();
  }
  localStorage.removeItem(POLICY_KEY);
  location.reload();
}

/** The policy picker: a change reopens the databases, by reloading. */
function policyPicker() {
  const select = $('#policy');
  const chosen = POLICIES[localStorage.getItem(POLICY_KEY)] ? localStorage.getItem(POLICY_KEY) : 'manual';
  select.value = chosen;
  select.addEventListener('change', () => {
    localStorage.setItem(POLICY_KEY, select.value);
    location.reload();
  });
  return POLICIES[chosen];
}

async function main() {
  const offlineReady = registerOfflineShell().then((ok) => {
    document.documentElement.dataset.offlineShell = ok ? 'ready' : 'unavailable';
    return ok;
  });
  showBrowserConnectivity();
  addEventListener('online', showBrowserConnectivity);
  addEventListener('offline', showBrowserConnectivity);
  await init();
  const dialogs = {
    editInspection: (options) => editInspection($('#editor-dialog'), options),
    confirmDelete: (name) => confirmDelete($('#confirm-dialog'), name),
    resolveConflict: (options) => resolveConflict($('#conflict-dialog'), options),
  };
  const conflicts = policyPicker();
  const devices = {};
  for (const config of DEVICES) {
    const root = $('#device-template').content.firstElementChild.cloneNode(true);
    $('#devices').append(root);
    devices[config.name] = new Device(root, config, dialogs);
  }
  await Promise.all(Object.values(devices).map((device) => device.open(REMOTE, { conflicts })));
  $('#clear-local').addEventListener('click', () => clearLocalData(devices));
  document.body.classList.add('is-ready');
  // For the end-to-end tests, and for poking at the SDK from the console.
  window.demo = { devices, offlineReady, ready: true };
}

main().catch((error) => {
  console.error(error);
  const banner = $('#fatal');
  banner.textContent = `The demo could not start: ${error.message ?? error}`;
  banner.hidden = false;
});
