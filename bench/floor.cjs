'use strict';
/*
 * The floor: the least any MCP instrumentation must do per call with this OpenTelemetry SDK, written
 * by hand with no generality. Per tools/call: one CLIENT span and one SERVER span carrying the same
 * attributes as McpInstrumentation's, one histogram point on each side, the trace context injected
 * into a copy of `params._meta` and extracted from it. No hooks, no config, no error classification
 * beyond `error.type`, no session tracking, no other methods' special cases.
 *
 * Over Streamable HTTP it also carries the HTTP peer from the transport's entry (1.x `handleRequest`,
 * v2 `toNodeHandler`) to the SERVER span in the OpenTelemetry context (`client.address`, `client.port`,
 * `network.*`, `mcp.session.id`, as ours), and it patches v2's `Protocol` the same way (stateless).
 *
 * It patches `Protocol.prototype` of the SDK's CommonJS build before any Client or Server exists.
 */
const { context, createContextKey, propagation, trace, metrics, SpanKind, SpanStatusCode, ROOT_CONTEXT } = require('@opentelemetry/api');

const PEER = createContextKey('bench-floor http peer');

/** Runs `fn` with the HTTP peer of Node request `req` in the active context. */
function withPeer(req, fn) {
  const socket = req && req.socket;
  if (!socket) return fn();
  const peer = { address: socket.remoteAddress, port: socket.remotePort, version: req.httpVersion };
  return context.with(context.active().setValue(PEER, peer), fn);
}

/** Adds the HTTP peer's attributes (span: all; metric: the network ones) when the request came over HTTP. */
function addPeer(peer, spanAttrs, metricAttrs) {
  if (peer === undefined) return;
  spanAttrs['network.transport'] = metricAttrs['network.transport'] = 'tcp';
  spanAttrs['network.protocol.name'] = metricAttrs['network.protocol.name'] = 'http';
  spanAttrs['network.protocol.version'] = metricAttrs['network.protocol.version'] = peer.version;
  spanAttrs['client.address'] = peer.address;
  spanAttrs['client.port'] = peer.port;
}

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

/** `options.v2`: also the v2 server side (loads `@modelcontextprotocol/server` and `/node`). */
function install(sdkPath, options = {}) {
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
      const info = self._clientVersion || {};
      return serverCall(request, handler, [request, extra], extra.requestId, extra.sessionId, info.name, info.version, LATEST_PROTOCOL_VERSION);
    });
  };

  // Over HTTP: the peer of the Node request, in the context of everything handleRequest starts.
  try {
    const { StreamableHTTPServerTransport } = require(sdkPath('server/streamableHttp.js'));
    const originalHandleRequest = StreamableHTTPServerTransport.prototype.handleRequest;
    StreamableHTTPServerTransport.prototype.handleRequest = function handleRequest(req, res, body) {
      return withPeer(req, () => originalHandleRequest.call(this, req, res, body));
    };
  } catch {}

  if (options.v2) installV2();

  function serverCall(request, handler, args, requestId, sessionId, clientName, clientVersion, protocolVersion) {
    const start = performance.now();
    const peer = context.active().getValue(PEER);
    const params = request.params || {};
    const meta = params._meta;
    const parent = meta && typeof meta === 'object' ? propagation.extract(ROOT_CONTEXT, meta, getter) : context.active();
    const tool = params.name;
    const attributes = {
      'mcp.method.name': 'tools/call',
      'gen_ai.tool.name': tool,
      'gen_ai.operation.name': 'execute_tool',
      'mcp.protocol.version': protocolVersion,
      'jsonrpc.request.id': String(requestId),
    };
    if (clientName !== undefined) {
      attributes['mcp.client.name'] = clientName;
      attributes['mcp.client.version'] = clientVersion;
    }
    if (sessionId !== undefined) attributes['mcp.session.id'] = sessionId;
    const metricAttrs = { 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': tool, 'gen_ai.operation.name': 'execute_tool', 'mcp.protocol.version': protocolVersion };
    addPeer(peer, attributes, metricAttrs);
    const span = tracer.startSpan(`tools/call ${tool}`, { kind: SpanKind.SERVER, attributes }, parent);
    const done = (errorType) => {
      if (errorType !== undefined) {
        metricAttrs['error.type'] = errorType;
        span.setAttribute('error.type', errorType);
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
      serverDuration.record((performance.now() - start) / 1000, metricAttrs);
    };
    return context.with(trace.setSpan(parent, span), () => Promise.resolve(handler(...args))).then(
      (result) => {
        done(result && result.isError ? 'tool_error' : undefined);
        return result;
      },
      (error) => {
        done((error && error.name) || 'Error');
        throw error;
      },
    );
  }

  /** v2 (`@modelcontextprotocol/server`, `/node`), when installed: the same server side. */
  function installV2() {
    let v2;
    let v2Node;
    try {
      v2 = require('@modelcontextprotocol/server');
      v2Node = require('@modelcontextprotocol/node');
    } catch {
      return;
    }
    const v2proto = v2.Protocol.prototype;
    // The 2026-07-28 era: version and client identity travel in each request's _meta envelope.
    const originalOnRequest = v2proto._onrequest;
    v2proto._onrequest = function _onrequest(request) {
      const meta = request && request.params && request.params._meta;
      if (meta) this._floorEnvelope = meta;
      return originalOnRequest.apply(this, arguments);
    };
    const originalV2Set = v2proto.setRequestHandler;
    v2proto.setRequestHandler = function setRequestHandler(method, handler) {
      if (method !== 'tools/call') return originalV2Set.apply(this, arguments);
      const self = this;
      return originalV2Set.call(this, method, function tracedHandler(request, ctx) {
        const envelope = self._floorEnvelope || {};
        const info = envelope['io.modelcontextprotocol/clientInfo'] || self._clientVersion || {};
        const version = envelope['io.modelcontextprotocol/protocolVersion'] || LATEST_PROTOCOL_VERSION;
        return serverCall(request, handler, [request, ctx], ctx.mcpReq.id, ctx.sessionId, info.name, info.version, version);
      });
    };
    const originalToNodeHandler = v2Node.toNodeHandler;
    v2Node.toNodeHandler = function toNodeHandler() {
      const nodeHandler = originalToNodeHandler.apply(this, arguments);
      return function (req, res, parsedBody) {
        return withPeer(req, () => nodeHandler(req, res, parsedBody));
      };
    };
  }
}

module.exports = { install };
