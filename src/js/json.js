// Documents cross into wasm as JSON text: checked here in one pass, written by
// the browser's own JSON.stringify, parsed once by serde_json. Reading them
// member by member through the bindings cost a call per member, most of the
// time of a bulk write.
//
// JSON.stringify silently drops functions, symbols and undefined members and
// turns NaN and Infinity into null; a document must reach the server
// unchanged, so `check` refuses those first and names where they are.

// Deepest nesting accepted: below serde_json's parsing limit (128) with room
// for the record and request envelopes a document travels in.
const MAX_DEPTH = 120;

class Unfit extends Error {
  constructor(keys, what) {
    super(`${pathOf(keys)} is ${what}, which JSON cannot carry`);
    this.name = "Unfit";
  }
}

function pathOf(keys) {
  let path = "$";
  for (const key of keys) path += typeof key === "number" ? `[${key}]` : `.${key}`;
  return path;
}

// Throws `Unfit` for the first value JSON cannot carry. `keys` is the path
// (member names and indexes) and `stack` the objects it goes through.
function check(value, keys, stack) {
  switch (typeof value) {
    case "string":
    case "boolean":
      return;
    case "number":
      if (!Number.isFinite(value)) throw new Unfit(keys, `the number ${value}`);
      return;
    case "undefined":
      throw new Unfit(keys, "undefined");
    case "bigint":
      throw new Unfit(keys, "a BigInt");
    case "symbol":
      throw new Unfit(keys, "a symbol");
    case "function":
      throw new Unfit(keys, "a function");
    default:
      break;
  }
  if (value === null) return;
  if (stack.includes(value)) throw new Unfit(keys, "a reference back to itself (a cycle)");
  if (stack.length >= MAX_DEPTH) throw new Unfit(keys, "nested too deeply");
  stack.push(value);
  let toJSON;
  try {
    toJSON = value.toJSON;
  } catch {
    throw new Unfit(keys, "an object with a throwing getter");
  }
  if (typeof toJSON === "function") {
    // Dates and other objects with toJSON become what JSON.stringify makes
    // of them.
    let converted;
    try {
      converted = toJSON.call(value, keys.length ? String(keys[keys.length - 1]) : "");
    } catch {
      throw new Unfit(keys, "an object whose toJSON() threw");
    }
    check(converted, keys, stack);
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      // As in JSON.stringify, undefined in an array becomes null.
      if (item === undefined) continue;
      keys.push(i);
      check(item, keys, stack);
      keys.pop();
    }
  } else {
    for (const key of Object.keys(value)) {
      let item;
      try {
        item = value[key];
      } catch {
        throw new Unfit(keys, "an object with a throwing getter");
      }
      // JSON.stringify omits undefined members.
      if (item === undefined) continue;
      keys.push(key);
      check(item, keys, stack);
      keys.pop();
    }
  }
  stack.pop();
}

// The JSON text of `value`, or throws an Error whose message says what JSON
// cannot carry and where.
export function jsonText(value) {
  check(value, [], []);
  return JSON.stringify(value);
}

// The JSON text of an array of documents; an unfit one throws an Error whose
// `index` says which.
export function jsonTexts(values) {
  for (let i = 0; i < values.length; i++) {
    try {
      check(values[i], [], []);
    } catch (e) {
      e.index = i;
      throw e;
    }
  }
  return JSON.stringify(values);
}

// The value of a JSON text that serde_json wrote.
export function parseJson(text) {
  return JSON.parse(text);
}
