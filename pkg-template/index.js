// tidesync's package entry: the generated bindings plus the error class.
//
// `Tidesync.open()` (and `signIn`, `signOut`, `session`) initialises the wasm
// module itself, once, on first use,
// so `import { Tidesync } from 'tidesync'` is all an app needs (in a page, a
// bundler or a worker). The default export, `init(input)`, stays for apps
// that serve the .wasm from another place: called first, it is the one
// initialisation, and `open()` then finds the module ready.
import init, { Tidesync } from './tidesync.js';

export * from './tidesync.js';
export { default } from './tidesync.js';
export { TidesyncError } from '@ERRORS@';

let ready;

/** Initialises the wasm module unless that happened already; a failure may be retried. */
function initialised() {
  ready ??= init().catch((error) => {
    ready = undefined;
    throw error;
  });
  return ready;
}

// The static calls an app may make before any other (opening a database,
// signing in) initialise the module first.
for (const name of ['open', 'signIn', 'signOut', 'session']) {
  const withModule = Tidesync[name];
  Tidesync[name] = async function (options) {
    await initialised();
    return withModule.call(this, options);
  };
}
