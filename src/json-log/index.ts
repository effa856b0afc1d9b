/*
 * The JSON-line log (the `opentelemetry-instrumentation-mcp/json-log` subpath): one JSON line per
 * MCP operation, from the spans this package makes.
 */
export { JsonLogSpanProcessor, type JsonLogOptions } from './processor';
export { StdoutDestinationError, type JsonLogDestination } from './destination';
export type { JsonLogRotation } from './rotation';
