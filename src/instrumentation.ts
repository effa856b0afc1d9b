import { context, createNoopMeter, diag, type Histogram, type Tracer, type TracerProvider } from '@opentelemetry/api';
import {
  InstrumentationBase,
  InstrumentationNodeModuleDefinition,
  InstrumentationNodeModuleFile,
  isWrapped,
} from '@opentelemetry/instrumentation';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hook } from 'require-in-the-middle';
import { existingConnectionOf, connectionOf, httpPeerOf, httpPeerStorage, registerMcpServer, type ConnectionState } from './connection';
import type { HandlerFn, JsonRpcMessageLike, JsonRpcResponseLike, ProtocolLike, RequestOptionsLike } from './internal-types';
import { ERROR_CODE_METHOD_NOT_FOUND, exceptionType } from './message';
import { startIncoming, startOutgoing, type McpOperation, type OperationHost } from './operations';
import { globalTracerProviderRegistered } from './global-tracer';
import { withInjectedMeta } from './propagation';
import { bridgeLogMessage, isForwardingOperationLog, type LogEmitter } from './protocol-logging';
import { recordSessionDuration, createInstruments, type McpInstruments } from './metrics';
import { requestObservers, type IncomingRequestInfo } from './request-observers';
import { resolveSettings, type Settings } from './settings';
import type { McpInstrumentationConfig } from './types';
import { learnStatelessProtocolVersion, V2Support } from './v2';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version';

/** The 1.x releases of `@modelcontextprotocol/sdk` this package patches. */
export const SUPPORTED_SDK_VERSIONS = ['>=1.10.0 <2'];

const SDK = '@modelcontextprotocol/sdk';
const PROTOCOL_FILE = 'shared/protocol';
const STREAMABLE_HTTP_SERVER_FILE = 'server/streamableHttp';
const SSE_SERVER_FILE = 'server/sse';
const MCP_SERVER_FILE = 'server/mcp';
const PATCHED_FILES = [PROTOCOL_FILE, STREAMABLE_HTTP_SERVER_FILE, SSE_SERVER_FILE, MCP_SERVER_FILE] as const;
/** The entry of a v2 split package (`@modelcontextprotocol/server` or `/client`): everything is there. */
const V2_ENTRY = 'v2-entry';
/** The entry of `@modelcontextprotocol/node` (v2's Node HTTP adapters). */
const V2_NODE_ENTRY = 'v2-node-entry';
type PatchedFile = (typeof PATCHED_FILES)[number] | typeof V2_ENTRY | typeof V2_NODE_ENTRY;

/** The 2.x releases of the split packages `@modelcontextprotocol/server` and `@modelcontextprotocol/client`. */
export const SUPPORTED_V2_VERSIONS = ['>=2.0.0 <3'];
const V2_PACKAGES = ['@modelcontextprotocol/server', '@modelcontextprotocol/client'];
const V2_NODE_PACKAGE = '@modelcontextprotocol/node';

/** Marks a handler function this package wrapped (so it is wrapped once). */
const WRAPPED_HANDLER = Symbol('opentelemetry-instrumentation-mcp.wrapped-handler');

type Wrapped<T> = T & { [WRAPPED_HANDLER]?: true };
type AnyFn = (...args: unknown[]) => unknown;

/** Classes a user may hand to {@link McpInstrumentation.manuallyInstrument}. */
export interface McpSdkClasses {
  /** `Protocol`, or any class derived from it (`Server`, `Client`). */
  Protocol?: unknown;
  Server?: unknown;
  Client?: unknown;
  McpServer?: unknown;
  StreamableHTTPServerTransport?: unknown;
  SSEServerTransport?: unknown;
}

/** The API's no-op meter class: what a meter is while no SDK is registered. */
const NOOP_METER_CLASS = createNoopMeter().constructor;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch (error) {
    diag.error('opentelemetry-instrumentation-mcp: internal error (the application is not affected)', error);
  }
}

/** Reads `major.minor.patch` and says whether it is a supported 1.x release. */
export function isSupportedSdkVersion(version: string | undefined): boolean {
  if (typeof version !== 'string') return false;
  const match = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (match === null) return false;
  const major = Number(match[1]);
  const minor = Number(match[2]);
  return major === 1 && minor >= 10;
}

const versionCache = new Map<string, string | undefined>();

/** The version in `<baseDir>/package.json` (the SDK's `./package.json` export hides it). */
function sdkVersionAt(baseDir: string): string | undefined {
  if (versionCache.has(baseDir)) return versionCache.get(baseDir);
  let version: string | undefined;
  try {
    const parsed = JSON.parse(readFileSync(join(baseDir, 'package.json'), 'utf8')) as { version?: unknown };
    version = typeof parsed.version === 'string' ? parsed.version : undefined;
  } catch {
    version = undefined;
  }
  versionCache.set(baseDir, version);
  return version;
}

/** The prototype in the chain of `cls` that defines `method` itself. */
function prototypeDefining(cls: unknown, method: string): Record<string, unknown> | undefined {
  if (typeof cls !== 'function') return undefined;
  let proto: unknown = (cls as { prototype?: unknown }).prototype;
  while (proto !== null && typeof proto === 'object' && proto !== Object.prototype) {
    if (Object.prototype.hasOwnProperty.call(proto, method)) return proto as Record<string, unknown>;
    proto = Object.getPrototypeOf(proto);
  }
  return undefined;
}

/**
 * v2's `Protocol` sends every request and notification through these two funnels (its handlers'
 * `ctx.mcpReq.send`/`notify` call them directly, bypassing `request`/`notification`), with the message
 * as second argument: they are wrapped there instead.
 */
const V2_SEND_METHODS = ['_requestWithSchemaViaCodec', '_notificationViaCodec'] as const;

const PROTOCOL_METHODS = [
  'connect',
  'request',
  'notification',
  '_onrequest',
  '_onnotification',
  '_onresponse',
  '_oncancel',
  '_onerror',
  '_onclose',
] as const;

/**
 * OpenTelemetry instrumentation for the MCP TypeScript SDK: `@modelcontextprotocol/sdk` 1.x and the
 * split v2 packages `@modelcontextprotocol/server` / `@modelcontextprotocol/client` 2.x.
 *
 * It patches the SDK's `Protocol` (the base of `Server` and `Client`) when the SDK is loaded, through
 * `require` (CommonJS) or `import` (ESM, with the loader hook registered): every request and
 * notification sent gets a `CLIENT` span and every one received a `SERVER` span, trace context travels
 * in `params._meta`, and the operation and session durations are measured.
 */
export class McpInstrumentation extends InstrumentationBase<McpInstrumentationConfig> {
  declare private _settings: Settings | undefined;
  declare private _instruments: McpInstruments | undefined;
  declare private _host: OperationHost | undefined;
  declare private _active: boolean | undefined;
  declare private _cjsHook: Hook | undefined;
  /** Whether the meter is a real one (set by `_updateMetricInstruments`). */
  declare private _metricsLive: boolean | undefined;
  /** Whether a tracer provider was handed to this instrumentation (else the global one is used). */
  declare private _explicitTracerProvider: boolean | undefined;
  /** Every SDK module this instance has seen loaded, so that `enable()` after `disable()` re-patches it. */
  declare private _seenModules: Map<object, PatchedFile> | undefined;
  /** Every prototype currently patched, for `disable()`. */
  declare private _patchedPrototypes: Set<Record<string, unknown>> | undefined;
  /** The v2-only patches (transport `send` watching, `toNodeHandler`). */
  declare private _v2Support: V2Support | undefined;

  constructor(config: McpInstrumentationConfig = {}) {
    super(PACKAGE_NAME, PACKAGE_VERSION, config);
  }

  override setConfig(config: McpInstrumentationConfig = {}): void {
    super.setConfig(config);
    this._settings = resolveSettings(this.getConfig());
  }

  protected override _updateMetricInstruments(): void {
    const meter = this.meter;
    this._instruments = createInstruments(meter);
    this._metricsLive = meter.constructor !== NOOP_METER_CLASS;
  }

  override setTracerProvider(tracerProvider: TracerProvider): void {
    super.setTracerProvider(tracerProvider);
    this._explicitTracerProvider = true;
  }

  /**
   * Whether anything records MCP operations: a tracer provider, a meter provider, a request observer
   * (the audit trail) or operation-log forwarding. With none — the instrumentation installed but no
   * OpenTelemetry SDK registered — messages pass straight through, at the cost of this check.
   */
  private _recording(): boolean {
    if (this._metricsLive === true || this._explicitTracerProvider === true || requestObservers.size > 0) return true;
    return globalTracerProviderRegistered() || this.host.settings.forwardOperationLogs;
  }

  private get v2(): V2Support {
    return (this._v2Support ??= new V2Support(
      (target, name, wrapper) => this._wrap(target, name, wrapper as never),
      (target, name) => this._unwrap(target, name),
      () => this._active === true,
    ));
  }

  private get host(): OperationHost {
    if (this._host === undefined) {
      // eslint-disable-next-line @typescript-eslint/no-this-alias
      const self = this;
      this._host = {
        get tracer(): Tracer {
          return self.tracer;
        },
        get logger(): LogEmitter | undefined {
          return self.logger as LogEmitter | undefined;
        },
        get settings(): Settings {
          return self._settings ?? (self._settings = resolveSettings(self.getConfig()));
        },
        get serverDuration(): Histogram | undefined {
          return self._instruments?.serverOperationDuration;
        },
        get clientDuration(): Histogram | undefined {
          return self._instruments?.clientOperationDuration;
        },
      };
    }
    return this._host;
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    const files: InstrumentationNodeModuleFile[] = [];
    for (const build of ['esm', 'cjs']) {
      for (const file of PATCHED_FILES) {
        files.push(
          new InstrumentationNodeModuleFile(
            `${SDK}/dist/${build}/${file}.js`,
            SUPPORTED_SDK_VERSIONS,
            (exports: unknown) => this._patchModule(exports, file),
            (exports: unknown) => this._unpatchModule(exports, file),
          ),
        );
      }
    }
    return [
      new InstrumentationNodeModuleDefinition(SDK, SUPPORTED_SDK_VERSIONS, undefined, undefined, files),
      // v2: bundled packages whose entries resolve, so the standard hooks see them, CJS and ESM.
      ...V2_PACKAGES.map(
        (name) =>
          new InstrumentationNodeModuleDefinition(
            name,
            SUPPORTED_V2_VERSIONS,
            (exports: unknown) => this._patchModule(exports, V2_ENTRY),
            (exports: unknown) => this._unpatchModule(exports, V2_ENTRY),
          ),
      ),
      new InstrumentationNodeModuleDefinition(
        V2_NODE_PACKAGE,
        SUPPORTED_V2_VERSIONS,
        (exports: unknown) => this._patchModule(exports, V2_NODE_ENTRY),
        (exports: unknown) => this._unpatchModule(exports, V2_NODE_ENTRY),
      ),
    ];
  }

  override enable(): void {
    super.enable();
    this._active = true;
    safely(() => {
      // The SDK's root export names a file that does not exist, so the base class's hooks never see
      // its CommonJS build: hook its internal files directly.
      if (this._cjsHook === undefined) {
        this._cjsHook = new Hook(
          PATCHED_FILES.map((file) => `${SDK}/dist/cjs/${file}`),
          { internals: true },
          (exports, name, baseDir) => this._onCjsRequire(exports, name, baseDir),
        );
      }
      for (const [exports, file] of this._seenModules ?? []) this._patchModule(exports, file);
    });
  }

  override disable(): void {
    super.disable();
    this._active = false;
    safely(() => {
      for (const proto of this._patchedPrototypes ?? []) this._unpatchPrototype(proto);
      this._v2Support?.unpatchAll();
    });
  }

  /**
   * Patches SDK classes handed over directly, for bundled applications or module layouts the load
   * hooks cannot see. Pass `Protocol` (or `Server` and `Client`), and optionally the HTTP server
   * transports: `instrumentation.manuallyInstrument({ Server, Client, StreamableHTTPServerTransport })`.
   */
  manuallyInstrument(classes: McpSdkClasses): void {
    safely(() => {
      for (const cls of [classes.Protocol, classes.Server, classes.Client]) {
        if (cls !== undefined) this._patchModule({ Protocol: cls }, PROTOCOL_FILE);
      }
      if (classes.StreamableHTTPServerTransport !== undefined) {
        this._patchModule({ StreamableHTTPServerTransport: classes.StreamableHTTPServerTransport }, STREAMABLE_HTTP_SERVER_FILE);
      }
      if (classes.McpServer !== undefined) this._patchModule({ McpServer: classes.McpServer }, MCP_SERVER_FILE);
      if (classes.SSEServerTransport !== undefined) {
        this._patchModule({ SSEServerTransport: classes.SSEServerTransport }, SSE_SERVER_FILE);
      }
    });
  }

  private _onCjsRequire<T>(exports: T, name: string, baseDir: string | undefined): T {
    safely(() => {
      const file = PATCHED_FILES.find((candidate) => name === `${SDK}/dist/cjs/${candidate}`);
      if (file === undefined || baseDir === undefined) return;
      const version = sdkVersionAt(baseDir);
      if (!isSupportedSdkVersion(version)) {
        this._diag.debug(`skipping ${SDK}@${version ?? 'unknown'}: supported ${SUPPORTED_SDK_VERSIONS.join(' ')}`);
        return;
      }
      this._patchModule(exports, file);
    });
    return exports;
  }

  private _patchModule<T>(exports: T, file: PatchedFile): T {
    if (exports === null || (typeof exports !== 'object' && typeof exports !== 'function')) return exports;
    (this._seenModules ??= new Map()).set(exports as object, file);
    if (this._active !== true) return exports;
    safely(() => {
      const classes = exports as Record<string, unknown>;
      if (file === PROTOCOL_FILE) {
        const proto = prototypeDefining(classes.Protocol, '_onrequest');
        if (proto !== undefined) this._patchProtocol(proto);
        else this._diag.debug('Protocol class not found in the SDK module; nothing patched');
      } else if (file === STREAMABLE_HTTP_SERVER_FILE) {
        const proto = prototypeDefining(classes.StreamableHTTPServerTransport, 'handleRequest');
        if (proto !== undefined) this._patchHttpEntry(proto, 'handleRequest');
      } else if (file === SSE_SERVER_FILE) {
        const proto = prototypeDefining(classes.SSEServerTransport, 'handlePostMessage');
        if (proto !== undefined) this._patchHttpEntry(proto, 'handlePostMessage');
      } else if (file === V2_ENTRY) {
        const protocol = prototypeDefining(classes.Protocol, '_onrequest');
        if (protocol !== undefined) this._patchProtocol(protocol);
        const mcpServer = prototypeDefining(classes.McpServer, 'connect');
        if (mcpServer !== undefined) this._patchMcpServer(mcpServer);
      } else if (file === V2_NODE_ENTRY) {
        const proto = prototypeDefining(classes.NodeStreamableHTTPServerTransport, 'handleRequest');
        if (proto !== undefined) this._patchHttpEntry(proto, 'handleRequest');
        this.v2.patchNodeEntry(classes);
      } else {
        const proto = prototypeDefining(classes.McpServer, 'connect');
        if (proto !== undefined) this._patchMcpServer(proto);
      }
    });
    return exports;
  }

  /** `McpServer.connect`: remember which McpServer drives which Server, to know its tools and prompts. */
  private _patchMcpServer(proto: Record<string, unknown>): void {
    if (typeof proto.connect !== 'function' || isWrapped(proto.connect)) return;
    this._wrap(proto, 'connect', ((original: AnyFn) =>
      function connect(this: { server?: unknown }, ...args: unknown[]): unknown {
        safely(() => {
          if (this.server !== null && typeof this.server === 'object') registerMcpServer(this.server, this);
        });
        return original.apply(this, args);
      }) as never);
    (this._patchedPrototypes ??= new Set()).add(proto);
  }

  private _unpatchModule<T>(exports: T, file: PatchedFile): T {
    safely(() => {
      const classes = exports as Record<string, unknown>;
      if (file === V2_ENTRY) {
        for (const proto of [prototypeDefining(classes.Protocol, '_onrequest'), prototypeDefining(classes.McpServer, 'connect')]) {
          if (proto !== undefined) this._unpatchPrototype(proto);
        }
        return;
      }
      if (file === V2_NODE_ENTRY) {
        const proto = prototypeDefining(classes.NodeStreamableHTTPServerTransport, 'handleRequest');
        if (proto !== undefined) this._unpatchPrototype(proto);
        this._v2Support?.unpatchNodeEntry(classes);
        return;
      }
      const proto =
        file === PROTOCOL_FILE
          ? prototypeDefining(classes.Protocol, '_onrequest')
          : file === STREAMABLE_HTTP_SERVER_FILE
            ? prototypeDefining(classes.StreamableHTTPServerTransport, 'handleRequest')
            : file === SSE_SERVER_FILE
              ? prototypeDefining(classes.SSEServerTransport, 'handlePostMessage')
              : prototypeDefining(classes.McpServer, 'connect');
      if (proto !== undefined) this._unpatchPrototype(proto);
    });
    return exports;
  }

  private _unpatchPrototype(proto: Record<string, unknown>): void {
    for (const name of [...PROTOCOL_METHODS, ...V2_SEND_METHODS, 'handleRequest', 'handlePostMessage']) {
      if (Object.prototype.hasOwnProperty.call(proto, name) && isWrapped(proto[name])) this._unwrap(proto, name);
    }
    this._patchedPrototypes?.delete(proto);
  }

  private _patchHttpEntry(proto: Record<string, unknown>, name: 'handleRequest' | 'handlePostMessage'): void {
    if (typeof proto[name] !== 'function' || isWrapped(proto[name])) return;
    this._wrap(proto, name, ((original: AnyFn) =>
      function patchedHttpEntry(this: unknown, ...args: unknown[]): unknown {
        let peer;
        try {
          peer = httpPeerOf(args[0]);
        } catch {
          peer = undefined;
        }
        return peer === undefined ? original.apply(this, args) : httpPeerStorage.run(peer, () => original.apply(this, args));
      }) as never);
    (this._patchedPrototypes ??= new Set()).add(proto);
  }

  private _patchProtocol(proto: Record<string, unknown>): void {
    if (isWrapped(proto._onrequest)) return;
    const v2 = typeof proto._requestWithSchemaViaCodec === 'function' && typeof proto._notificationViaCodec === 'function';
    if (v2) {
      this._wrap(proto, '_requestWithSchemaViaCodec', ((original: AnyFn) => this._requestWrapper(original, 1)) as never);
      this._wrap(proto, '_notificationViaCodec', ((original: AnyFn) => this._notificationWrapper(original, 1)) as never);
    }
    const wrappers: Record<(typeof PROTOCOL_METHODS)[number], ((original: AnyFn) => AnyFn) | undefined> = {
      connect: (original) => this._connectWrapper(original),
      request: v2 ? undefined : (original) => this._requestWrapper(original, 0),
      notification: v2 ? undefined : (original) => this._notificationWrapper(original, 0),
      _onrequest: (original) => this._onReceiveWrapper(original, true, v2),
      _onnotification: (original) => this._onReceiveWrapper(original, false, v2),
      _onresponse: (original) => this._onResponseWrapper(original),
      _oncancel: (original) => this._onCancelWrapper(original),
      _onerror: (original) => this._onErrorWrapper(original),
      _onclose: (original) => this._onCloseWrapper(original),
    };
    for (const name of PROTOCOL_METHODS) {
      const wrapper = wrappers[name];
      if (wrapper !== undefined && typeof proto[name] === 'function') this._wrap(proto, name, wrapper as never);
    }
    (this._patchedPrototypes ??= new Set()).add(proto);
  }

  /** Whether an operation should be traced and measured. */
  private _traces(method: unknown): method is string {
    return this._active === true && typeof method === 'string' && !this.host.settings.ignoreMethods.has(method) && this._recording();
  }

  private _connectWrapper(original: AnyFn): AnyFn {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const instrumentation = this;
    return function connect(this: ProtocolLike, ...args: unknown[]): unknown {
      const result = original.apply(this, args);
      // `connect` attaches the transport synchronously: the connection (and its session) starts now.
      safely(() => {
        if (this._transport !== undefined) instrumentation._watchStdioEnd(connectionOf(this));
      });
      return result;
    };
  }

  /**
   * `request(message, schema, options)` (v1), `_requestWithSchemaViaCodec(codec, message, schema, options)`
   * (v2). Fixed parameters, no rest arrays: every request sent passes through here.
   */
  private _requestWrapper(original: AnyFn, at: number): AnyFn {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const instrumentation = this;
    if (at === 0) {
      return function request(this: ProtocolLike, message: unknown, schema: unknown, options: unknown): unknown {
        const msg = message as JsonRpcMessageLike | undefined;
        if (!instrumentation._traces(msg?.method)) return original.apply(this, arguments as unknown as unknown[]);
        const opts = options as (RequestOptionsLike & { onprogress?: unknown }) | undefined;
        const op = instrumentation._startRequest(this, msg!, opts);
        if (op === undefined) return original.apply(this, arguments as unknown as unknown[]);
        const injected = withInjectedMetaSafely(msg!, op);
        let pending: unknown;
        try {
          pending =
            typeof opts?.onprogress === 'function' && injected !== msg
              ? sendKeepingTraceContext(this, injected, () => context.with(op.ctx, invoke3, undefined, original, this, injected, schema, options))
              : context.with(op.ctx, invoke3, undefined, original, this, injected, schema, options);
        } catch (error) {
          finishErrorSafely(op, error);
          throw error;
        }
        return settle(op, pending);
      };
    }
    return function _requestWithSchemaViaCodec(this: ProtocolLike, codec: unknown, message: unknown, schema: unknown, options: unknown): unknown {
      const msg = message as JsonRpcMessageLike | undefined;
      if (!instrumentation._traces(msg?.method)) return original.apply(this, arguments as unknown as unknown[]);
      const op = instrumentation._startRequest(this, msg!, options as RequestOptionsLike | undefined);
      if (op === undefined) return original.apply(this, arguments as unknown as unknown[]);
      const injected = withInjectedMetaSafely(msg!, op);
      let pending: unknown;
      try {
        pending = context.with(op.ctx, invoke4, undefined, original, this, codec, injected, schema, options);
      } catch (error) {
        finishErrorSafely(op, error);
        throw error;
      }
      return settle(op, pending);
    };
  }

  /** The CLIENT-span operation of a request about to be sent, or `undefined` if it could not start. */
  private _startRequest(protocol: ProtocolLike, message: JsonRpcMessageLike, options: RequestOptionsLike | undefined): McpOperation | undefined {
    try {
      // The SDK numbers the request with `_requestMessageId++` and may deliver (in memory: synchronously)
      // the response before returning, so the id is taken before the call: it is the one used unless
      // the SDK rejects the request before sending (not connected, signal already aborted).
      const nextId = protocol._requestMessageId;
      const signal = options?.signal;
      const requestId = typeof nextId === 'number' && protocol._transport !== undefined && signal?.aborted !== true ? nextId : undefined;
      return startOutgoing(this.host, protocol, message.method as string, message, true, signal, requestId);
    } catch (error) {
      diag.error('opentelemetry-instrumentation-mcp: could not start a request span', error);
      return undefined;
    }
  }

  /**
   * `notification(message, options)` (v1), `_notificationViaCodec(codec, message, options)` (v2).
   * Fixed parameters, no rest arrays (as for requests).
   */
  private _notificationWrapper(original: AnyFn, at: number): AnyFn {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const instrumentation = this;
    if (at === 0) {
      return function notification(this: ProtocolLike, message: unknown, options: unknown): unknown {
        const msg = message as JsonRpcMessageLike | undefined;
        const op = instrumentation._startNotification(this, msg);
        if (op === undefined) return original.apply(this, arguments as unknown as unknown[]);
        return callInOperation(op, invoke2, original, this, instrumentation._notificationToSend(this, msg!, op), options, undefined);
      };
    }
    return function _notificationViaCodec(this: ProtocolLike, codec: unknown, message: unknown, options: unknown): unknown {
      const msg = message as JsonRpcMessageLike | undefined;
      const op = instrumentation._startNotification(this, msg);
      if (op === undefined) return original.apply(this, arguments as unknown as unknown[]);
      return callInOperation(op, invoke3, original, this, codec, instrumentation._notificationToSend(this, msg!, op), options);
    };
  }

  /** The CLIENT-span operation of a notification about to be sent, or `undefined`: send it as it is. */
  private _startNotification(protocol: ProtocolLike, message: JsonRpcMessageLike | undefined): McpOperation | undefined {
    if (isForwardingOperationLog()) return undefined;
    if (message?.method === 'notifications/message' && this._active === true) this._bridgeLog(protocol, message, 'outgoing');
    if (!this._traces(message?.method)) return undefined;
    try {
      return startOutgoing(this.host, protocol, message!.method as string, message!, false, undefined);
    } catch (error) {
      diag.error('opentelemetry-instrumentation-mcp: could not start a notification span', error);
      return undefined;
    }
  }

  /** The notification with the operation's trace context, unless the SDK may debounce it. */
  private _notificationToSend(protocol: ProtocolLike, message: JsonRpcMessageLike, op: McpOperation): JsonRpcMessageLike {
    // A parameterless notification may be debounced by the SDK; adding params would defeat that.
    try {
      const debounced = message.params === undefined && protocol._options?.debouncedNotificationMethods?.includes(message.method as string) === true;
      return debounced ? message : withInjectedMeta(message, op.ctx);
    } catch (error) {
      diag.error('opentelemetry-instrumentation-mcp: could not inject the trace context', error);
      return message;
    }
  }

  /**
   * `_onrequest` / `_onnotification`: make sure the handler that will run is wrapped (handlers live in
   * the SDK's own maps; they are wrapped once, on first use, whatever registered them). A request
   * nobody handles gets its span here: the SDK answers it with -32601. On v2, a request goes through
   * `V2Support.dispatchRequest`, which records whatever the SDK refuses before dispatch.
   */
  private _onReceiveWrapper(original: AnyFn, isRequest: boolean, v2 = false): AnyFn {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const instrumentation = this;
    // `_onrequest(request, extra)`, `_onnotification(notification)`: called with what they were given.
    return function onReceive(this: ProtocolLike, received: unknown, extra: unknown): unknown {
      const message = received as JsonRpcMessageLike | undefined;
      const method = message?.method;
      if (!isRequest && method === 'notifications/message' && instrumentation._active === true) {
        instrumentation._bridgeLog(this, message!, 'incoming');
      }
      if (!instrumentation._traces(method)) return original.call(this, received, extra);
      if (v2) learnStatelessProtocolVersion(this, message!, extra);
      let temporary = false;
      let unhandled = false;
      let handlers: Map<string, HandlerFn> | undefined;
      try {
        handlers = isRequest ? this._requestHandlers : this._notificationHandlers;
        if (handlers instanceof Map) {
          const handler = handlers.get(method);
          if (handler !== undefined) {
            if ((handler as Wrapped<HandlerFn>)[WRAPPED_HANDLER] !== true) {
              handlers.set(method, instrumentation._wrapHandler(this, handler, isRequest));
            }
          } else {
            const fallback = isRequest ? this.fallbackRequestHandler : this.fallbackNotificationHandler;
            if (typeof fallback === 'function') {
              // The fallback is the application's property: wrap it for this message only, through the map.
              handlers.set(method, instrumentation._wrapHandler(this, fallback, isRequest));
              temporary = true;
            } else if (v2 && isRequest) {
              unhandled = true;
            } else {
              const op = startIncoming(instrumentation.host, this, method, message!, isRequest, undefined);
              if (isRequest) op.finishError({ code: ERROR_CODE_METHOD_NOT_FOUND, message: 'Method not found' });
              else op.finishResult(undefined);
            }
          }
        }
      } catch (error) {
        diag.error('opentelemetry-instrumentation-mcp: could not prepare a received message', error);
      }
      try {
        return v2 && isRequest
          ? instrumentation.v2.dispatchRequest(instrumentation.host, this, message!, unhandled, original, received, extra)
          : original.call(this, received, extra);
      } finally {
        if (temporary) handlers?.delete(method);
      }
    };
  }

  /** Bridges a `notifications/message` sent or received to OpenTelemetry logs and log subscribers. */
  private _bridgeLog(protocol: ProtocolLike, message: JsonRpcMessageLike, direction: 'incoming' | 'outgoing'): void {
    safely(() =>
      bridgeLogMessage(this.host.logger, this.host.settings, connectionOf(protocol), protocol, message, direction, (error) =>
        diag.error('opentelemetry-instrumentation-mcp: a log sink threw', error),
      ),
    );
  }

  private _wrapHandler(protocol: ProtocolLike, handler: HandlerFn, isRequest: boolean): HandlerFn {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const instrumentation = this;
    const wrapped: Wrapped<HandlerFn> = function (this: unknown, message: unknown, extra?: unknown): unknown {
      const method = (message as JsonRpcMessageLike | undefined)?.method;
      if (!instrumentation._traces(method)) return handler.call(this, message, extra);
      let op: McpOperation;
      try {
        // v1 hands handlers `extra.signal`; v2 a `ctx` with `mcpReq.signal`.
        const handlerExtra = extra as { signal?: AbortSignal; mcpReq?: { signal?: AbortSignal } } | undefined;
        const signal = isRequest ? (handlerExtra?.signal ?? handlerExtra?.mcpReq?.signal) : undefined;
        op = startIncoming(instrumentation.host, protocol, method, message as JsonRpcMessageLike, isRequest, signal);
      } catch (error) {
        diag.error('opentelemetry-instrumentation-mcp: could not start a server span', error);
        return handler.call(this, message, extra);
      }
      if (isRequest && requestObservers.size > 0) {
        const refusal = observe(op, method, message as JsonRpcMessageLike, extra);
        if (refusal !== undefined) {
          safely(() => op.finishError(refusal));
          return Promise.reject(refusal);
        }
      }
      let result: unknown;
      try {
        result = context.with(op.ctx, handler, this, message, extra);
      } catch (error) {
        safely(() => op.finishError(error));
        throw error;
      }
      return settle(op, result);
    };
    wrapped[WRAPPED_HANDLER] = true;
    return wrapped;
  }

  private _onResponseWrapper(original: AnyFn): AnyFn {
    return function _onresponse(this: ProtocolLike, received: unknown): unknown {
      const response = received as JsonRpcResponseLike | undefined;
      const error = response?.error;
      if (error !== undefined && error !== null && typeof error === 'object') {
        safely(() => {
          const op = existingConnectionOf(this)?.outgoing.get(Number(response!.id));
          if (op !== undefined) {
            const code = Number.isSafeInteger(error.code) ? (error.code as number) : Number(error.code);
            op.wireError = { code: Number.isFinite(code) ? code : 0, message: typeof error.message === 'string' ? error.message : undefined };
          }
        });
      }
      return original.call(this, received);
    };
  }

  private _onCancelWrapper(original: AnyFn): AnyFn {
    return function _oncancel(this: ProtocolLike, ...args: unknown[]): unknown {
      safely(() => {
        const params = (args[0] as JsonRpcMessageLike | undefined)?.params as { requestId?: unknown; reason?: unknown } | undefined;
        const requestId = params?.requestId;
        if (requestId === undefined) return;
        const op = existingConnectionOf(this)?.incoming.get(requestId);
        if (op !== undefined && op.isRequest) op.finishCancelled(typeof params?.reason === 'string' ? { message: params.reason } : undefined);
      });
      return original.apply(this, args);
    };
  }

  private _onErrorWrapper(original: AnyFn): AnyFn {
    return function _onerror(this: ProtocolLike, ...args: unknown[]): unknown {
      safely(() => {
        const conn = existingConnectionOf(this);
        if (conn !== undefined) conn.lastErrorType = exceptionType(args[0]);
      });
      return original.apply(this, args);
    };
  }

  /** The connection ended: in-flight operations end as closed, and the session is measured. */
  private _endSession(conn: ConnectionState): void {
    conn.closed = true;
    for (const op of conn.outgoing.values()) op.markClosed();
    for (const op of [...conn.incoming.values()]) op.finishClosed();
    recordSessionDuration(this._instruments, conn);
  }

  /**
   * A stdio server's session ends when the host closes its stdin, but the SDK's StdioServerTransport
   * does not close on that: the session is ended (and measured) when stdin ends.
   */
  private _watchStdioEnd(conn: ConnectionState): void {
    const transport = conn.transport as { constructor?: { name?: string }; _stdin?: { once?: unknown } } | undefined;
    if (transport?.constructor?.name !== 'StdioServerTransport') return;
    const stdin = transport._stdin as { once?: (event: string, listener: () => void) => unknown } | undefined;
    if (typeof stdin?.once !== 'function') return;
    stdin.once('end', () =>
      safely(() => {
        if (!conn.closed && this._active === true) this._endSession(conn);
      }),
    );
  }

  private _onCloseWrapper(original: AnyFn): AnyFn {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const instrumentation = this;
    return function _onclose(this: ProtocolLike, ...args: unknown[]): unknown {
      let conn: ConnectionState | undefined;
      safely(() => {
        conn = existingConnectionOf(this);
        if (conn === undefined || conn.closed) conn = undefined;
        else instrumentation._endSession(conn);
      });
      const result = original.apply(this, args);
      if (conn !== undefined) {
        const closing = conn;
        // Requests the SDK rejected on close end through their own promise first; end any left over.
        setImmediate(() =>
          safely(() => {
            for (const op of [...closing.outgoing.values()]) op.finishClosed();
          }),
        );
      }
      return result;
    };
  }
}

/**
 * Shows a received request to the registered observers; returns the JSON-RPC error one of them
 * refused it with, if any. Any other exception of an observer is reported, not propagated.
 */
function observe(op: McpOperation, method: string, message: JsonRpcMessageLike, extra: unknown): unknown {
  const info: IncomingRequestInfo = { span: op.span, method, requestId: op.requestId, params: message.params, extra };
  for (const observer of requestObservers) {
    try {
      observer.onIncomingRequest(info);
    } catch (error) {
      if (Number.isSafeInteger((error as { code?: unknown } | null)?.code)) return error;
      diag.error('opentelemetry-instrumentation-mcp: a request observer failed', error);
    }
  }
  return undefined;
}

const TRACE_META_KEYS = ['traceparent', 'tracestate', 'baggage'] as const;

/**
 * SDKs 1.10–1.12 replace `params._meta` with `{ progressToken }` when a request has an `onprogress`
 * callback, dropping the trace context injected into it. For such a request, the transport's `send`
 * is intercepted for the duration of the (synchronous) call, and the trace keys are put back into the
 * outgoing message when they are missing; newer SDKs keep them and the message passes unchanged.
 */
function sendKeepingTraceContext(protocol: ProtocolLike, injected: JsonRpcMessageLike, call: () => unknown): unknown {
  const transport = protocol._transport as { send?: unknown } | undefined;
  const send = transport?.send;
  const meta = (injected.params as { _meta?: Record<string, unknown> } | undefined)?._meta;
  if (transport === undefined || typeof send !== 'function' || meta === undefined) return call();
  const hadOwn = Object.prototype.hasOwnProperty.call(transport, 'send');
  const restore = (): void => {
    if (hadOwn) transport.send = send;
    else delete transport.send;
  };
  transport.send = function (this: unknown, message: unknown, ...rest: unknown[]): unknown {
    restore();
    let outgoing = message;
    safely(() => {
      const m = message as { params?: { _meta?: Record<string, unknown> } } | undefined;
      const outMeta = m?.params?._meta;
      if (outMeta === undefined || outMeta.traceparent !== undefined || (message as { method?: unknown }).method !== injected.method) return;
      const restored: Record<string, unknown> = { ...outMeta };
      for (const key of TRACE_META_KEYS) if (meta[key] !== undefined) restored[key] = meta[key];
      outgoing = { ...m, params: { ...m!.params, _meta: restored } };
    });
    return (send as (...a: unknown[]) => unknown).call(this, outgoing, ...rest);
  };
  try {
    return call();
  } finally {
    if (transport.send !== send) restore();
  }
}

/*
 * `fn.call(self, …)` for `context.with`, which would otherwise bind `fn` to `self` (a new function per
 * call) when given a `this`.
 */
function invoke2(fn: AnyFn, self: unknown, a: unknown, b: unknown): unknown {
  return fn.call(self, a, b);
}

function invoke3(fn: AnyFn, self: unknown, a: unknown, b: unknown, c: unknown): unknown {
  return fn.call(self, a, b, c);
}

function invoke4(fn: AnyFn, self: unknown, a: unknown, b: unknown, c: unknown, d: unknown): unknown {
  return fn.call(self, a, b, c, d);
}

/**
 * Calls `original` on `self` with `a, b, c` (through `invoke`, which passes on as many as it takes) in
 * the operation's context, and ends the operation with the outcome, which the caller gets unchanged.
 */
function callInOperation(
  op: McpOperation,
  invoke: (fn: AnyFn, self: unknown, a: unknown, b: unknown, c: unknown) => unknown,
  original: AnyFn,
  self: unknown, a: unknown, b: unknown, c: unknown): unknown {
  let pending: unknown;
  try {
    pending = context.with(op.ctx, invoke, undefined, original, self, a, b, c);
  } catch (error) {
    finishErrorSafely(op, error);
    throw error;
  }
  return settle(op, pending);
}

/** `message` with the operation's trace context in its `_meta` (the message itself if that fails). */
function withInjectedMetaSafely(message: JsonRpcMessageLike, op: McpOperation): JsonRpcMessageLike {
  try {
    return withInjectedMeta(message, op.ctx);
  } catch (error) {
    diag.error('opentelemetry-instrumentation-mcp: could not inject the trace context', error);
    return message;
  }
}

/** Ends `op` when `pending` settles, and hands the caller the same outcome. */
function settle(op: McpOperation, pending: unknown): unknown {
  if (!isThenable(pending)) {
    finishResultSafely(op, pending);
    return pending;
  }
  return pending.then(
    (value) => {
      finishResultSafely(op, value);
      return value;
    },
    (error: unknown) => {
      finishErrorSafely(op, error);
      throw error;
    },
  );
}

function finishResultSafely(op: McpOperation, value: unknown): void {
  try {
    op.finishResult(value);
  } catch (error) {
    diag.error('opentelemetry-instrumentation-mcp: unexpected error', error);
  }
}

function finishErrorSafely(op: McpOperation, failure: unknown): void {
  try {
    op.finishError(failure);
  } catch (error) {
    diag.error('opentelemetry-instrumentation-mcp: unexpected error', error);
  }
}
