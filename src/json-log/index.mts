// The ESM entry of the `json-log` subpath re-exports its CommonJS build, so that one process never holds two copies of the classes.
import cjs from './index.js';

export const { JsonLogSpanProcessor, StdoutDestinationError } = cjs;
export type * from './index.js';
