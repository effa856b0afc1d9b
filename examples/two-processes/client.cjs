'use strict';
// The client process, CommonJS, also without any OpenTelemetry setup of its own: it is started with
// `node --require opentelemetry-instrumentation-mcp/register client.cjs`, and starts the server the
// same way. Its only OpenTelemetry code is the `plan-trip` span around the work, made with the API:
// the CLIENT span of every request is its child, and the server's SERVER spans continue the same
// trace in the other process (the context travels in each request's `params._meta`).
const path = require('node:path');
const { trace, SpanStatusCode } = require('@opentelemetry/api');
const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StdioClientTransport } = require('@modelcontextprotocol/sdk/client/stdio.js');

async function main() {
  const client = new Client({ name: 'trip-planner', version: '1.0.0' });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: ['--import', 'opentelemetry-instrumentation-mcp/register', path.join(__dirname, 'server.mjs')],
      env: { ...process.env, OTEL_SERVICE_NAME: process.env.SERVER_SERVICE_NAME ?? 'trip-server' },
      stderr: 'inherit',
    }),
  );
  const tracer = trace.getTracer('trip-planner');
  await tracer.startActiveSpan('plan-trip', async (span) => {
    try {
      for (const city of ['Paris', 'Oslo']) {
        const result = await client.callTool({ name: 'forecast', arguments: { city } });
        console.log(result.content[0].text);
      }
      const booking = await client.callTool({ name: 'book-hotel', arguments: { city: 'Oslo', nights: 2 } });
      console.log(booking.content[0].text);
      console.log(`trace ${span.spanContext().traceId}`);
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
      throw error;
    } finally {
      span.end();
    }
  });
  await client.close(); // the server exits and flushes; this process flushes when its event loop drains
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
