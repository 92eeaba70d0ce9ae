// tidesync's package entry: the generated bindings plus the error class.
export * from './tidesync.js';
export { default } from './tidesync.js';
export { TidesyncError } from '@ERRORS@';
