'use strict';
// OpenTelemetry set up in code: the Node SDK with McpInstrumentation, exporting traces and metrics
// as OTLP over HTTP. Load it before the application, so that the MCP SDK is patched as it loads:
//
//   node --require ./examples/nodesdk-otlp/tracing.cjs examples/nodesdk-otlp/server.cjs
//
// The exporters read OTEL_EXPORTER_OTLP_ENDPOINT (default http://localhost:4318) and the other
// standard OTEL_EXPORTER_OTLP_* variables; OTEL_METRIC_EXPORT_INTERVAL sets the metric period.
const { NodeSDK } = require('@opentelemetry/sdk-node');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');
const { OTLPMetricExporter } = require('@opentelemetry/exporter-metrics-otlp-http');
const { PeriodicExportingMetricReader } = require('@opentelemetry/sdk-metrics');
const { McpInstrumentation } = require('opentelemetry-instrumentation-mcp');

const sdk = new NodeSDK({
  serviceName: process.env.OTEL_SERVICE_NAME || 'inventory-server',
  traceExporter: new OTLPTraceExporter(),
  metricReaders: [
    new PeriodicExportingMetricReader({
      exporter: new OTLPMetricExporter(),
      exportIntervalMillis: Number(process.env.OTEL_METRIC_EXPORT_INTERVAL) || 60_000,
    }),
  ],
  instrumentations: [
    new McpInstrumentation({
      // Tool arguments and results on spans are user data: off unless asked for.
      captureContent: process.env.CAPTURE_MCP_CONTENT === 'true',
    }),
  ],
});
sdk.start();

// Flush what is buffered when the server ends: its stdin closes (the host went away), or a signal.
let stopping;
const stop = () => (stopping ??= sdk.shutdown().catch((error) => console.error('OpenTelemetry shutdown failed', error)));
process.once('beforeExit', stop);
for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, () => stop().finally(() => process.exit(0)));
