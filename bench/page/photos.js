// The photos the attachment benchmarks upload and download: `bytes` of
// pseudo-random data each (incompressible, as a JPEG is), the same for every
// contender and every run. Plain ESM with no browser API, so the node side
// seeds servers with the very same bytes.
import { docId } from './docs.js';

/** The attachment name and type of every photo. */
export const PHOTO_NAME = 'photo.jpg';
export const PHOTO_TYPE = 'image/jpeg';

/** The id of the document holding photo `i`. */
export function photoId(i) {
  return docId('photo-', i);
}

/** Photo `i`: `bytes` bytes from xorshift32 seeded by `i` (no two photos alike). */
export function makePhoto(i, bytes) {
  const words = new Uint32Array(Math.ceil(bytes / 4));
  let x = (0x9e3779b9 ^ Math.imul(i + 1, 0x85ebca6b)) >>> 0 || 1;
  for (let k = 0; k < words.length; k++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    words[k] = x;
  }
  return new Uint8Array(words.buffer, 0, bytes);
}

/** Whether `got` (a Uint8Array) holds exactly the bytes of photo `i`. */
export function isPhoto(got, i, bytes) {
  if (got.length !== bytes) return false;
  const want = makePhoto(i, bytes);
  for (let k = 0; k < bytes; k++) if (got[k] !== want[k]) return false;
  return true;
}
