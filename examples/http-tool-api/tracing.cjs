'use strict';
// OpenTelemetry for the server, loaded before it: `node --require ./tracing.cjs server.cjs`.
// NodeSDK with two instrumentations: HTTP (the server's incoming requests and the tool's outgoing
// call to the API) and MCP. Exporters, endpoint and resource come from the OTEL_* variables
// (OTLP over HTTP to localhost:4318 unless they say otherwise).
const { NodeSDK } = require('@opentelemetry/sdk-node');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
const { McpInstrumentation } = require('opentelemetry-instrumentation-mcp');

const sdk = new NodeSDK({
  serviceName: process.env.OTEL_SERVICE_NAME || 'weather-api-server',
  instrumentations: [new HttpInstrumentation(), new McpInstrumentation()],
});
sdk.start();

// Flush before the process ends on a signal (a normal exit needs no help: the server never exits
// on its own).
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    sdk.shutdown().finally(() => process.exit(0));
  });
}
