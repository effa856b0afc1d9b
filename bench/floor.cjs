'use strict';
/*
 * The floor: the least any MCP instrumentation must do per call with this OpenTelemetry SDK, written
 * by hand with no generality. Per tools/call: one CLIENT span and one SERVER span carrying the same
 * attributes as McpInstrumentation's, one histogram point on each side, the trace context injected
 * into a copy of `params._meta` and extracted from it. No hooks, no config, no error classification
 * beyond `error.type`, no session tracking, no other methods' special cases.
 *
 * It patches `Protocol.prototype` of the SDK's CommonJS build before any Client or Server exists.
 */
const { context, propagation, trace, metrics, SpanKind, SpanStatusCode, ROOT_CONTEXT } = require('@opentelemetry/api');

const BUCKETS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];

const getter = {
  get(carrier, key) {
    const v = carrier[key];
    return typeof v === 'string' ? v : undefined;
  },
  keys(carrier) {
    return Object.keys(carrier);
  },
};

function install(sdkPath) {
  const { Protocol } = require(sdkPath('shared/protocol.js'));
  const { LATEST_PROTOCOL_VERSION } = require(sdkPath('types.js'));
  const tracer = trace.getTracer('bench-floor');
  const meter = metrics.getMeter('bench-floor');
  const advice = { advice: { explicitBucketBoundaries: BUCKETS } };
  const clientDuration = meter.createHistogram('mcp.client.operation.duration', { unit: 's', ...advice });
  const serverDuration = meter.createHistogram('mcp.server.operation.duration', { unit: 's', ...advice });

  const proto = Protocol.prototype;
  const originalRequest = proto.request;
  proto.request = function request(req, schema, options) {
    if (req.method !== 'tools/call') return originalRequest.call(this, req, schema, options);
    const start = performance.now();
    const tool = req.params && req.params.name;
    const info = this._clientInfo || {};
    const span = tracer.startSpan(`tools/call ${tool}`, {
      kind: SpanKind.CLIENT,
      attributes: {
        'mcp.method.name': 'tools/call',
        'gen_ai.tool.name': tool,
        'gen_ai.operation.name': 'execute_tool',
        'jsonrpc.request.id': String(this._requestMessageId),
        'mcp.protocol.version': LATEST_PROTOCOL_VERSION,
        'mcp.client.name': info.name,
        'mcp.client.version': info.version,
      },
    });
    const carrier = {};
    propagation.inject(trace.setSpan(context.active(), span), carrier);
    const params = req.params || {};
    const sent = { ...req, params: { ...params, _meta: { ...params._meta, ...carrier } } };
    const done = (errorType) => {
      const attrs = { 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': tool, 'gen_ai.operation.name': 'execute_tool', 'mcp.protocol.version': LATEST_PROTOCOL_VERSION };
      if (errorType !== undefined) {
        attrs['error.type'] = errorType;
        span.setAttribute('error.type', errorType);
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
      clientDuration.record((performance.now() - start) / 1000, attrs);
    };
    return originalRequest.call(this, sent, schema, options).then(
      (result) => {
        done(result && result.isError ? 'tool_error' : undefined);
        return result;
      },
      (error) => {
        done((error && error.name) || 'Error');
        throw error;
      },
    );
  };

  const originalSetRequestHandler = proto.setRequestHandler;
  proto.setRequestHandler = function setRequestHandler(schema, handler) {
    const method = schema && schema.shape && schema.shape.method && schema.shape.method.value;
    if (method !== 'tools/call') return originalSetRequestHandler.call(this, schema, handler);
    const self = this;
    return originalSetRequestHandler.call(this, schema, function tracedHandler(request, extra) {
      const start = performance.now();
      const params = request.params || {};
      const meta = params._meta;
      const parent = meta && typeof meta === 'object' ? propagation.extract(ROOT_CONTEXT, meta, getter) : context.active();
      const tool = params.name;
      const serverInfo = self._serverInfo || {};
      const span = tracer.startSpan(
        `tools/call ${tool}`,
        {
          kind: SpanKind.SERVER,
          attributes: {
            'mcp.method.name': 'tools/call',
            'gen_ai.tool.name': tool,
            'gen_ai.operation.name': 'execute_tool',
            'mcp.protocol.version': LATEST_PROTOCOL_VERSION,
            'mcp.server.name': serverInfo.name,
            'mcp.server.version': serverInfo.version,
            'jsonrpc.request.id': String(extra.requestId),
          },
        },
        parent,
      );
      const done = (errorType) => {
        const attrs = { 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': tool, 'gen_ai.operation.name': 'execute_tool', 'mcp.protocol.version': LATEST_PROTOCOL_VERSION };
        if (errorType !== undefined) {
          attrs['error.type'] = errorType;
          span.setAttribute('error.type', errorType);
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
        span.end();
        serverDuration.record((performance.now() - start) / 1000, attrs);
      };
      return context.with(trace.setSpan(parent, span), () => Promise.resolve(handler(request, extra))).then(
        (result) => {
          done(result && result.isError ? 'tool_error' : undefined);
          return result;
        },
        (error) => {
          done((error && error.name) || 'Error');
          throw error;
        },
      );
    });
  };
}

module.exports = { install };
