'use strict';
/*
 * The lesson's minimal MCP server, over stdio, with a per-tool latency log: one JSON line per MCP
 * operation, written by JsonLogSpanProcessor from the spans McpInstrumentation makes.
 *
 *   node examples/latency-baseline/server.cjs        log on standard error
 *   MCP_LOG_FILE=ops.log node …/server.cjs           log in ops.log
 *
 * Standard output carries JSON-RPC only: the log never goes there.
 *
 * No trace is exported here: the sampler drops every trace (AlwaysOffSampler), and
 * McpRecordingSampler keeps the MCP spans recording all the same, which is all the log needs. In an
 * application that exports traces, pass your own sampler to McpRecordingSampler and add your
 * exporter's processor next to the log's.
 *
 * Order matters: OpenTelemetry and McpInstrumentation first, then the MCP SDK (CommonJS for that).
 */
const { trace } = require('@opentelemetry/api');
const { AlwaysOffSampler, TracerProvider } = require('@opentelemetry/sdk-trace');
const { McpInstrumentation, McpRecordingSampler } = require('opentelemetry-instrumentation-mcp');
const { JsonLogSpanProcessor } = require('opentelemetry-instrumentation-mcp/json-log');

const log = new JsonLogSpanProcessor({ destination: process.env.MCP_LOG_FILE || 'stderr' });
const provider = new TracerProvider({
  sampler: new McpRecordingSampler(new AlwaysOffSampler()),
  spanProcessors: [log],
});
trace.setGlobalTracerProvider(provider);
new McpInstrumentation();

const { McpServer } = require('@modelcontextprotocol/sdk/server/mcp.js');
const { StdioServerTransport } = require('@modelcontextprotocol/sdk/server/stdio.js');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const text = (value) => ({ content: [{ type: 'text', text: value }] });

const server = new McpServer({ name: 'latency-baseline', version: '1.0.0' });

// Four tools of different speeds: the numbers to find in the log.
server.tool('instant', 'Answers at once', async () => text('done'));
server.tool('lookup', 'A fast backend call (about 5 ms)', async () => {
  await sleep(5);
  return text('found');
});
server.tool('search', 'A slower backend call (about 25 ms)', async () => {
  await sleep(25);
  return text('3 results');
});
let reports = 0;
server.tool('report', 'A slow call (about 50 ms) that fails one time in three', async () => {
  await sleep(50);
  reports++;
  if (reports % 3 === 0) return { isError: true, content: [{ type: 'text', text: 'report backend unavailable' }] };
  return text('report ready');
});

let stopping;
function stop() {
  // Flushes the log (and any exporter) before the process goes.
  stopping ??= server
    .close()
    .catch(() => {})
    .then(() => provider.shutdown())
    .finally(() => process.exit(0));
  return stopping;
}
process.stdin.on('end', stop);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

server.connect(new StdioServerTransport()).catch((error) => {
  process.stderr.write(`latency-baseline server: ${error}\n`);
  process.exit(1);
});
