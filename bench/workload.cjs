'use strict';
/*
 * The benchmark's MCP server: two tools, `noop` (a few bytes back) and `big` (10 kB of text back).
 * Each handler notes whether the request carried a W3C `traceparent` in `_meta`, so the report can
 * say whether a configuration propagates context (one property read, the same for every configuration).
 */
const BIG_TEXT = 'x'.repeat(10 * 1024);

const stats = { calls: 0, withTraceparent: 0 };

function noteMeta(extra) {
  stats.calls++;
  const meta = extra && extra._meta;
  if (meta && typeof meta.traceparent === 'string') stats.withTraceparent++;
}

/** Registers the tools with `server.tool` (the form every peer wraps, including Shinzo's). */
function registerTools(server) {
  server.tool('noop', 'returns a few bytes', async (extra) => {
    noteMeta(extra);
    return { content: [{ type: 'text', text: 'ok' }] };
  });
  server.tool('big', 'returns 10 kB of text', async (extra) => {
    noteMeta(extra);
    return { content: [{ type: 'text', text: BIG_TEXT }] };
  });
  // Not measured: tells the worker which traceparent arrived (propagation yes/no).
  server.tool('probe', 'returns the traceparent it received', async (extra) => {
    const meta = extra && extra._meta;
    return { content: [{ type: 'text', text: meta && typeof meta.traceparent === 'string' ? meta.traceparent : '' }] };
  });
}

module.exports = { registerTools, stats, BIG_TEXT };
