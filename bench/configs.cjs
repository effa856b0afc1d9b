'use strict';
/*
 * The configurations measured. `setup(name, opts)` runs in a fresh process before the MCP SDK is
 * loaded and returns hooks the worker (or the stdio server child) calls:
 *   onServer(mcpServer)  before tools are registered (Shinzo and Sentry wrap the server instance);
 *   describe()           what the configuration produced (spans and metric points counted);
 *   shutdown()           flush and stop.
 * Everything below loads the OpenTelemetry SDK and our build from the repository.
 */
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const BUILD = process.env.BENCH_BUILD_DIR || path.join(ROOT, 'build', 'src');
const sdkPath = (sub) => require.resolve(`@modelcontextprotocol/sdk/${sub}`, { paths: [ROOT] });

/** An exporter that drops what it is given, counting spans. */
class DropSpanExporter {
  constructor() {
    this.spans = 0;
    this.serverToolSpanAttributes = undefined;
  }
  export(spans, done) {
    this.spans += spans.length;
    // The attribute names of the batch's last SERVER tools/call span (what the report compares).
    for (let i = spans.length - 1; i >= 0; i--) {
      if (spans[i].kind === 1 && spans[i].name.startsWith('tools/call')) {
        this.serverToolSpanAttributes = Object.keys(spans[i].attributes).sort();
        break;
      }
    }
    done({ code: 0 });
  }
  shutdown() {
    return Promise.resolve();
  }
  forceFlush() {
    return Promise.resolve();
  }
}

/** The common OpenTelemetry setup: ALS context manager, W3C propagators, batch processor + drop exporter. */
function otel({ withMetrics = false, sampler, extraProcessors = [] } = {}) {
  const { context, propagation, trace, metrics } = require('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
  const { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } = require('@opentelemetry/core');
  const sdkTrace = require('@opentelemetry/sdk-trace');
  const exporter = new DropSpanExporter();
  const provider = new sdkTrace.TracerProvider({
    spanProcessors: [new sdkTrace.BatchSpanProcessor({ exporter }), ...extraProcessors],
    ...(sampler ? { sampler: sampler(sdkTrace) } : {}),
  });
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  let reader;
  let meterProvider;
  if (withMetrics) {
    const sdkMetrics = require('@opentelemetry/sdk-metrics');
    class CollectOnDemandReader extends sdkMetrics.MetricReader {
      async onForceFlush() {}
      async onShutdown() {}
    }
    reader = new CollectOnDemandReader();
    meterProvider = new sdkMetrics.MeterProvider({ readers: [reader] });
    metrics.setGlobalMeterProvider(meterProvider);
  }
  return {
    exporter,
    provider,
    /** Ends what is buffered (the batch processor's queue), so that a heap sample does not count it. */
    flush: () => provider.forceFlush(),
    async describe() {
      await provider.forceFlush();
      const out = { spansExported: exporter.spans, serverToolSpanAttributes: exporter.serverToolSpanAttributes };
      if (reader) {
        const { resourceMetrics } = await reader.collect();
        const byName = {};
        out.serverMetricAttributes = undefined;
        for (const sm of resourceMetrics.scopeMetrics) {
          for (const m of sm.metrics) {
            let points = 0;
            for (const dp of m.dataPoints) {
              if (dp.attributes['mcp.method.name'] !== undefined && dp.attributes['mcp.method.name'] !== 'tools/call') continue;
              points += typeof dp.value === 'object' && dp.value !== null && 'count' in dp.value ? dp.value.count : 1;
              if (m.descriptor.name === 'mcp.server.operation.duration') out.serverMetricAttributes = Object.keys(dp.attributes).sort();
            }
            byName[m.descriptor.name] = points;
          }
        }
        out.metricPoints = byName;
      }
      return out;
    },
    async shutdown() {
      await provider.shutdown();
      if (meterProvider) await meterProvider.shutdown();
    },
  };
}

function ours(o) {
  const { McpInstrumentation } = require(path.join(BUILD, 'index.js'));
  new McpInstrumentation(o.instrumentation || {});
}

const NOOP_HOOKS = { onServer() {}, async describe() { return {}; }, async shutdown() {} };

function freshDir(workDir, name) {
  const dir = path.join(workDir, `${name}-${process.pid}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

function withOtel(o, extra) {
  const base = otel(o);
  return { ...NOOP_HOOKS, flush: base.flush, describe: base.describe, shutdown: base.shutdown, ...extra };
}

/** Adds the JSON-line log's dropped-line count to what describe() reports. */
function withLogCounters(hooks, log) {
  return {
    ...hooks,
    /** Counters read without flushing anything (the soak samples these). */
    counters() {
      return { jsonLogDroppedLines: log.droppedLines };
    },
    async describe() {
      return { ...(await hooks.describe()), jsonLogDroppedLines: log.droppedLines };
    },
  };
}

/**
 * name → { label, setup(opts) }. opts: { workDir, sinkUrl, role: 'both' | 'server', http: undefined |
 * 'stateful' | 'stateless' (the Streamable HTTP server process) }. `noHttp`: why it is not measured over HTTP.
 */
const CONFIGS = {
  bare: { label: 'bare SDK', setup: () => NOOP_HOOKS },
  'no-sdk': {
    label: 'installed, no OTel SDK (API no-op)',
    setup: () => {
      ours({});
      return NOOP_HOOKS;
    },
  },
  tracing: {
    label: 'tracing (ALS, batch, drop exporter)',
    setup: () => {
      const h = withOtel({});
      ours({});
      return h;
    },
  },
  'tracing+metrics': {
    label: 'tracing + metrics',
    setup: () => {
      const h = withOtel({ withMetrics: true });
      ours({});
      return h;
    },
  },
  'json-log': {
    label: 'tracing + metrics + JSON-line log file',
    setup: ({ workDir }) => {
      const { JsonLogSpanProcessor } = require(path.join(BUILD, 'json-log', 'index.js'));
      const dir = freshDir(workDir, 'log');
      const log = new JsonLogSpanProcessor({ destination: path.join(dir, 'mcp.log') });
      const h = withOtel({ withMetrics: true, extraProcessors: [log] });
      ours({});
      return withLogCounters(h, log);
    },
  },
  'audit-fsync': {
    label: 'tracing + metrics + audit, fsync per record',
    setup: ({ workDir }) => {
      const { AuditSpanProcessor } = require(path.join(BUILD, 'audit', 'index.js'));
      const dir = freshDir(workDir, 'audit-fsync');
      const h = withOtel({ withMetrics: true, extraProcessors: [new AuditSpanProcessor({ file: { directory: dir, durability: 'record' } })] });
      ours({});
      return h;
    },
  },
  'audit-interval': {
    label: 'tracing + metrics + audit, fsync every 1 s',
    setup: ({ workDir }) => {
      const { AuditSpanProcessor } = require(path.join(BUILD, 'audit', 'index.js'));
      const dir = freshDir(workDir, 'audit-interval');
      const h = withOtel({ withMetrics: true, extraProcessors: [new AuditSpanProcessor({ file: { directory: dir, durability: { intervalMs: 1000 } } })] });
      ours({});
      return h;
    },
  },
  'sampled-1%': {
    label: 'tracing + metrics, ParentBased(TraceIdRatio 0.01)',
    setup: () => {
      const h = withOtel({
        withMetrics: true,
        sampler: (t) => new t.ParentBasedSampler({ root: new t.TraceIdRatioBasedSampler(0.01) }),
      });
      ours({});
      return h;
    },
  },
  everything: {
    label: 'tracing + metrics + JSON log + audit (interval)',
    setup: ({ workDir }) => {
      const { JsonLogSpanProcessor } = require(path.join(BUILD, 'json-log', 'index.js'));
      const { AuditSpanProcessor } = require(path.join(BUILD, 'audit', 'index.js'));
      const dir = freshDir(workDir, 'everything');
      const log = new JsonLogSpanProcessor({ destination: path.join(dir, 'mcp.log') });
      const h = withOtel({
        withMetrics: true,
        extraProcessors: [log, new AuditSpanProcessor({ file: { directory: path.join(dir, 'audit'), durability: { intervalMs: 1000 } } })],
      });
      ours({});
      return withLogCounters(h, log);
    },
  },
  floor: {
    label: 'floor: hand-written minimum (2 spans, 2 points, _meta)',
    setup: ({ http }) => {
      const h = withOtel({ withMetrics: true });
      require('./floor.cjs').install(sdkPath, { v2: http === 'stateless' });
      return h;
    },
  },
  traceloop: {
    label: '@traceloop/instrumentation-mcp (+ same tracing setup)',
    peer: '@traceloop/instrumentation-mcp',
    noStateless: 'it patches the 1.x Client and Server only',
    setup: () => {
      const h = withOtel({});
      const { McpInstrumentation } = require('@traceloop/instrumentation-mcp');
      const { registerInstrumentations } = require('@opentelemetry/instrumentation');
      // As its README says (content tracing is on by default there).
      const inst = new McpInstrumentation();
      registerInstrumentations({ instrumentations: [inst] });
      // With the CommonJS build of SDK 1.32 the README's way patches nothing (its module definitions
      // name sub-paths, which the require hook never matches: 0 spans measured), so we also use the
      // manuallyInstrument({ Client, Server }) its JSDoc documents.
      inst.manuallyInstrument({
        Client: require('@modelcontextprotocol/sdk/client/index.js').Client,
        Server: require('@modelcontextprotocol/sdk/server/index.js').Server,
      });
      return h;
    },
  },
  arize: {
    label: '@arizeai/openinference-instrumentation-mcp (+ same tracing setup)',
    peer: '@arizeai/openinference-instrumentation-mcp',
    noStateless: 'it patches the 1.x transport modules only',
    setup: ({ http }) => {
      const h = withOtel({});
      const { MCPInstrumentation } = require('@arizeai/openinference-instrumentation-mcp');
      // As its README says: manual instrumentation of the stdio modules (it patches transports only;
      // it has no in-memory transport support).
      const inst = new MCPInstrumentation();
      inst.manuallyInstrument({
        clientStdioModule: require(sdkPath('client/stdio.js')),
        serverStdioModule: require(sdkPath('server/stdio.js')),
        // Over Streamable HTTP, its README's streamable HTTP modules (it has no v2 support).
        ...(http ? { clientStreamableHTTPModule: require(sdkPath('client/streamableHttp.js')), serverStreamableHTTPModule: require(sdkPath('server/streamableHttp.js')) } : {}),
      });
      return h;
    },
  },
  shinzo: {
    label: '@shinzolabs/instrumentation-mcp (own NodeSDK, OTLP/HTTP to a loopback sink)',
    peer: '@shinzolabs/instrumentation-mcp',
    // instrumentServer(server) starts a NodeSDK per McpServer: with a server per HTTP session (or per
    // stateless request) that is one SDK per session, registered globally once; not measured over HTTP.
    noHttp: 'instrumentServer(server) starts one NodeSDK per McpServer, and HTTP servers make one McpServer per session',
    setup: ({ sinkUrl }) => {
      const { instrumentServer } = require('@shinzolabs/instrumentation-mcp');
      let telemetry;
      return {
        ...NOOP_HOOKS,
        onServer(server) {
          // As its README says: instrumentServer(server, config) before the tools are added.
          telemetry = instrumentServer(server, { serverName: 'bench', serverVersion: '1.0.0', exporterEndpoint: sinkUrl });
        },
        async describe() {
          return { exportsTo: 'loopback OTLP/HTTP sink (orchestrator counts spans)' };
        },
        async shutdown() {
          try {
            if (telemetry && telemetry.shutdown) await telemetry.shutdown();
          } catch {}
        },
      };
    },
  },
  sentry: {
    label: '@sentry/node wrapMcpServerWithSentry (transport that sends nothing)',
    peer: '@sentry/node',
    setup: () => {
      const Sentry = require('@sentry/node');
      const { createTransport } = require('@sentry/core');
      let spans = 0;
      Sentry.init({
        dsn: 'https://public@o0.ingest.sentry.io/0',
        tracesSampleRate: 1.0,
        transport: (options) => createTransport(options, async () => ({ statusCode: 200 })),
        // Sentry 11 streams spans by default (traceLifecycle 'stream'): count them one by one.
        beforeSendSpan(span) {
          spans++;
          return span;
        },
      });
      return {
        ...NOOP_HOOKS,
        onServer(server) {
          // As its docs say: const server = Sentry.wrapMcpServerWithSentry(new McpServer(...)).
          return Sentry.wrapMcpServerWithSentry(server);
        },
        async describe() {
          await Sentry.flush(2000);
          return { spansExported: spans };
        },
        async shutdown() {
          await Sentry.close(2000);
        },
      };
    },
  },
};

module.exports = { CONFIGS, sdkPath, ROOT, BUILD };
