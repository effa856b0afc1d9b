/*
 * `McpInstrumentation`, the conductor: it finds the MCP SDK's modules as Node loads them (CommonJS and
 * ESM, 1.x and the v2 split packages) and applies one table of patch targets to them; the wrappers live
 * in `patches/`, what one MCP operation records in `operation/`.
 */
import { createNoopMeter, type Tracer, type TracerProvider } from '@opentelemetry/api';
import {
  InstrumentationBase,
  InstrumentationNodeModuleDefinition,
  InstrumentationNodeModuleFile,
  isWrapped,
} from '@opentelemetry/instrumentation';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hook } from 'require-in-the-middle';
import { globalTracerProviderRegistered } from './global-tracer';
import type { JsonRpcMessageLike, ProtocolLike } from './internal-types';
import { bridgeLogMessage, type LogEmitter } from './mcp-logging/bridge';
import { forwardOperationLog } from './mcp-logging/forward';
import { noteSubscribedLevel } from './mcp-logging/levels';
import { createInstruments, recordSessionDuration, type McpInstruments } from './metrics';
import type { FinishedOperation, OperationHost } from './operation/host';
import { connectionOf, type ConnectionState } from './connection';
import { httpEntryWrapper, toNodeHandlerWrapper } from './patches/http-entry';
import { createMcpHandlerWrapper, webEntryWrapper } from './patches/http-exchange';
import { subscribeWrapper } from './patches/listen-stream';
import { safely, type AnyFn, type Patchable, type Patcher, type PatchKit } from './patches/kit';
import { mcpServerConnectWrapper } from './patches/mcp-server';
import { protocolPatcher } from './patches/protocol';
import { V2Refusals } from './patches/v2-refusals';
import { requestObservers } from './request-observers';
import { resolveSettings, type Settings } from './settings';
import type { McpInstrumentationConfig } from './types';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version';

/** The 1.x releases of `@modelcontextprotocol/sdk` this package patches. */
export const SUPPORTED_SDK_VERSIONS = ['>=1.10.0 <2'];
/** The 2.x releases of the split packages `@modelcontextprotocol/server` and `@modelcontextprotocol/client`. */
export const SUPPORTED_V2_VERSIONS = ['>=2.0.0 <3'];

const SDK = '@modelcontextprotocol/sdk';
const V2_PACKAGES = ['@modelcontextprotocol/server', '@modelcontextprotocol/client'];
const V2_NODE_PACKAGE = '@modelcontextprotocol/node';

/** The SDK modules patched: 1.x files (under `dist/{cjs,esm}/`), and the entries of the v2 packages. */
const V1_FILES = ['shared/protocol', 'server/streamableHttp', 'server/sse', 'server/mcp'] as const;
const V2_ENTRY = 'v2-entry';
const V2_NODE_ENTRY = 'v2-node-entry';
type PatchedModule = (typeof V1_FILES)[number] | typeof V2_ENTRY | typeof V2_NODE_ENTRY;

/**
 * One patch target: in these modules, the class exported as `exportName` (its prototype in the chain
 * that defines `method`) — or, without `exportName`, the module's exports object itself — gets
 * `patcher`'s wrappers. Patch, unpatch and `manuallyInstrument` all read this table.
 */
interface PatchTarget {
  readonly modules: readonly PatchedModule[];
  readonly exportName: string | undefined;
  /** The method whose defining prototype is patched, and whose being wrapped means "patched already". */
  readonly method: string;
  readonly patcher: (kit: PatchKit) => Patcher;
}

function single(method: string, wrapper: (kit: PatchKit) => (original: AnyFn) => AnyFn): (kit: PatchKit) => Patcher {
  return (kit) => ({ methods: [method], wrappers: () => [[method, wrapper(kit)]] });
}

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

/** Reads `major.minor.patch` and says whether it is a supported 1.x release. */
export function isSupportedSdkVersion(version: string | undefined): boolean {
  if (typeof version !== 'string') return false;
  const match = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (match === null) return false;
  return Number(match[1]) === 1 && Number(match[2]) >= 10;
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
function prototypeDefining(cls: unknown, method: string): Patchable | undefined {
  if (typeof cls !== 'function') return undefined;
  let proto: unknown = (cls as { prototype?: unknown }).prototype;
  while (proto !== null && typeof proto === 'object' && proto !== Object.prototype) {
    if (Object.prototype.hasOwnProperty.call(proto, method)) return proto as Patchable;
    proto = Object.getPrototypeOf(proto);
  }
  return undefined;
}

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
  declare private _kit: PatchKit | undefined;
  declare private _active: boolean | undefined;
  declare private _cjsHook: Hook | undefined;
  /** Whether the meter is a real one (set by `_updateMetricInstruments`). */
  declare private _metricsLive: boolean | undefined;
  /** Whether a tracer provider was handed to this instrumentation (else the global one is used). */
  declare private _explicitTracerProvider: boolean | undefined;
  /** Every SDK module this instance has seen loaded, so that `enable()` after `disable()` re-patches it. */
  declare private _seenModules: Map<object, PatchedModule> | undefined;
  /** Every target currently patched, with its patcher, for `disable()`. */
  declare private _patched: Map<Patchable, Patcher> | undefined;
  declare private _refusals: V2Refusals | undefined;
  declare private _targets: ReadonlyArray<PatchTarget> | undefined;

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

  /** The table of patch targets. */
  private get targets(): ReadonlyArray<PatchTarget> {
    return (this._targets ??= [
      {
        modules: ['shared/protocol', V2_ENTRY],
        exportName: 'Protocol',
        method: '_onrequest',
        patcher: (kit) => protocolPatcher(kit, () => (this._refusals ??= new V2Refusals(kit))),
      },
      { modules: ['server/streamableHttp'], exportName: 'StreamableHTTPServerTransport', method: 'handleRequest', patcher: single('handleRequest', httpEntryWrapper) },
      { modules: ['server/sse'], exportName: 'SSEServerTransport', method: 'handlePostMessage', patcher: single('handlePostMessage', httpEntryWrapper) },
      { modules: ['server/mcp', V2_ENTRY], exportName: 'McpServer', method: 'connect', patcher: single('connect', mcpServerConnectWrapper) },
      { modules: [V2_NODE_ENTRY], exportName: 'NodeStreamableHTTPServerTransport', method: 'handleRequest', patcher: single('handleRequest', httpEntryWrapper) },
      { modules: [V2_NODE_ENTRY], exportName: undefined, method: 'toNodeHandler', patcher: single('toNodeHandler', toNodeHandlerWrapper) },
      { modules: [V2_ENTRY], exportName: undefined, method: 'createMcpHandler', patcher: single('createMcpHandler', createMcpHandlerWrapper) },
      { modules: [V2_ENTRY], exportName: 'WebStandardStreamableHTTPServerTransport', method: 'handleRequest', patcher: single('handleRequest', webEntryWrapper) },
      { modules: [V2_ENTRY], exportName: 'InMemoryServerEventBus', method: 'subscribe', patcher: single('subscribe', subscribeWrapper) },
    ]);
  }

  /**
   * Whether anything records MCP operations: a tracer provider, a meter provider, a request observer
   * (the audit trail) or operation-log forwarding. With none — the instrumentation installed but no
   * OpenTelemetry SDK registered — messages pass straight through, at the cost of this check.
   */
  private _recording(): boolean {
    if (this._metricsLive === true || this._explicitTracerProvider === true || requestObservers.size > 0) return true;
    return globalTracerProviderRegistered() || this.settings.forwardOperationLogs;
  }

  private get settings(): Settings {
    return (this._settings ??= resolveSettings(this.getConfig()));
  }

  /** What the patches get from this instrumentation. */
  private get kit(): PatchKit {
    if (this._kit !== undefined) return this._kit;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    const host: OperationHost = {
      get tracer(): Tracer {
        return self.tracer;
      },
      get settings(): Settings {
        return self.settings;
      },
      get serverDuration() {
        return self._instruments?.serverOperationDuration;
      },
      get clientDuration() {
        return self._instruments?.clientOperationDuration;
      },
      onEnd: (op, errorType, latencyMs) => this._afterOperation(op, errorType, latencyMs),
    };
    this._kit = {
      host,
      diag: this._diag,
      active: () => this._active === true,
      traces: (method: unknown): method is string =>
        this._active === true && typeof method === 'string' && !this.settings.ignoreMethods.has(method) && this._recording(),
      wrap: (target, name, wrapper) => this._wrap(target, name, wrapper as never),
      unwrap: (target, name) => this._unwrap(target, name),
      bridgeLog: (protocol, message, direction) => this._bridgeLog(protocol, message, direction),
      recordSession: (conn) => recordSessionDuration(this._instruments, conn),
    };
    return this._kit;
  }

  /** Per-method side effects of a finished operation: a session's log level, operation-log forwarding. */
  private _afterOperation(op: FinishedOperation, errorType: string | undefined, latencyMs: number): void {
    if (op.direction !== 'incoming' || !op.isRequest || op.conn.role !== 'server') return;
    if (op.method === 'logging/setLevel' && errorType === undefined) noteSubscribedLevel(op.conn, op.params);
    if (this.settings.forwardOperationLogs) {
      safely(this.kit, () =>
        forwardOperationLog(op.conn.protocol, op.conn, {
          method: op.method,
          tool: op.target.toolName,
          prompt: op.target.promptName,
          latencyMs,
          errorType,
        }, op.requestLogLevel),
      );
    }
  }

  /** Bridges a `notifications/message` sent or received to OpenTelemetry logs and log subscribers. */
  private _bridgeLog(protocol: ProtocolLike, message: JsonRpcMessageLike, direction: 'incoming' | 'outgoing'): void {
    safely(this.kit, () =>
      bridgeLogMessage(this.logger as LogEmitter | undefined, this.settings, connectionOf(protocol), protocol, message, direction, (error) =>
        this._diag.error('a log sink threw', error),
      ),
    );
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    const files: InstrumentationNodeModuleFile[] = [];
    for (const build of ['esm', 'cjs']) {
      for (const file of V1_FILES) {
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
    const entry = (name: string, module: PatchedModule) =>
      new InstrumentationNodeModuleDefinition(
        name,
        SUPPORTED_V2_VERSIONS,
        (exports: unknown) => this._patchModule(exports, module),
        (exports: unknown) => this._unpatchModule(exports, module),
      );
    return [
      new InstrumentationNodeModuleDefinition(SDK, SUPPORTED_SDK_VERSIONS, undefined, undefined, files),
      // v2: bundled packages whose entries resolve, so the standard hooks see them, CJS and ESM.
      ...V2_PACKAGES.map((name) => entry(name, V2_ENTRY)),
      entry(V2_NODE_PACKAGE, V2_NODE_ENTRY),
    ];
  }

  override enable(): void {
    super.enable();
    this._active = true;
    safely(this.kit, () => {
      // The SDK's root export names a file that does not exist, so the base class's hooks never see
      // its CommonJS build: hook its internal files directly.
      if (this._cjsHook === undefined) {
        this._cjsHook = new Hook(
          V1_FILES.map((file) => `${SDK}/dist/cjs/${file}`),
          { internals: true },
          (exports, name, baseDir) => this._onCjsRequire(exports, name, baseDir),
        );
      }
      for (const [exports, module] of this._seenModules ?? []) this._patchModule(exports, module);
    });
  }

  override disable(): void {
    super.disable();
    this._active = false;
    safely(this.kit, () => {
      for (const [target, patcher] of [...(this._patched ?? [])]) this._unpatchTarget(target, patcher);
      this._refusals?.unpatchAll();
    });
  }

  /**
   * Patches SDK classes handed over directly, for bundled applications or module layouts the load
   * hooks cannot see. Pass `Protocol` (or `Server` and `Client`), and optionally `McpServer` and the HTTP
   * server transports: `instrumentation.manuallyInstrument({ Server, Client, StreamableHTTPServerTransport })`.
   */
  manuallyInstrument(classes: McpSdkClasses): void {
    safely(this.kit, () => {
      const given = classes as Record<string, unknown>;
      for (const target of this.targets) {
        if (target.exportName === undefined) continue;
        const candidates = target.exportName === 'Protocol' ? [given.Protocol, given.Server, given.Client] : [given[target.exportName]];
        for (const cls of candidates) {
          if (cls !== undefined) this._applyTarget(target, { [target.exportName]: cls });
        }
      }
    });
  }

  private _onCjsRequire<T>(exports: T, name: string, baseDir: string | undefined): T {
    safely(this.kit, () => {
      const file = V1_FILES.find((candidate) => name === `${SDK}/dist/cjs/${candidate}`);
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

  /** Where `target` is in a module's exports: the defining prototype, or the exports object itself. */
  private _locate(target: PatchTarget, exports: Patchable): Patchable | undefined {
    if (target.exportName === undefined) return typeof exports[target.method] === 'function' ? exports : undefined;
    return prototypeDefining(exports[target.exportName], target.method);
  }

  private _applyTarget(target: PatchTarget, exports: Patchable): void {
    const located = this._locate(target, exports);
    if (located === undefined) {
      if (target.exportName === 'Protocol') this._diag.debug('Protocol class not found in the SDK module; nothing patched');
      return;
    }
    if (isWrapped(located[target.method])) return;
    const patcher = target.patcher(this.kit);
    for (const [name, wrapper] of patcher.wrappers(located)) {
      if (typeof located[name] === 'function') this._wrap(located, name, wrapper as never);
    }
    (this._patched ??= new Map()).set(located, patcher);
  }

  private _unpatchTarget(located: Patchable, patcher: Patcher): void {
    for (const name of patcher.methods) {
      if (Object.prototype.hasOwnProperty.call(located, name) && isWrapped(located[name])) this._unwrap(located, name);
    }
    this._patched?.delete(located);
  }

  private _patchModule<T>(exports: T, module: PatchedModule): T {
    if (exports === null || (typeof exports !== 'object' && typeof exports !== 'function')) return exports;
    (this._seenModules ??= new Map()).set(exports as object, module);
    if (this._active !== true) return exports;
    safely(this.kit, () => {
      for (const target of this.targets) {
        if (target.modules.includes(module)) this._applyTarget(target, exports as Patchable);
      }
    });
    return exports;
  }

  private _unpatchModule<T>(exports: T, module: PatchedModule): T {
    safely(this.kit, () => {
      for (const target of this.targets) {
        if (!target.modules.includes(module)) continue;
        const located = this._locate(target, exports as Patchable);
        if (located === undefined) continue;
        const patcher = this._patched?.get(located);
        if (patcher !== undefined) this._unpatchTarget(located, patcher);
      }
    });
    return exports;
  }
}

export type { ConnectionState };
