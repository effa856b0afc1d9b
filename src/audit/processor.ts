/* The audit span processor: one record per audited MCP operation (who, what, when, outcome), handed to a sink. */
import { SpanKind, type Context, type HrTime, type Span } from '@opentelemetry/api';
import { ATTR_CLIENT_ADDRESS } from '@opentelemetry/semantic-conventions';
import { envFlag } from '../env';
import { addRequestObserver, type IncomingRequestInfo } from '../request-observers';
import { ATTR_MCP_METHOD_NAME } from '../semconv';
import { isoMillis } from '../iso-time';
import { summarizeMcpSpan, type McpSpanSummary, type ReadableSpanLike } from '../span-summary';
import { argumentsRedactor, auditArguments, type ArgumentsPolicy } from './arguments';
import { auditDiag } from './diagnostics';
import { AppendOnlyFileSink, type AppendOnlyFileSinkOptions, type AuditSink } from './file-sink';
import { OtlpAuditSink, type AuditOtlpOptions } from './otlp-sink';
import type { AuditActor, AuditArguments, AuditOperation } from './record';


/** The methods audited unless configured otherwise. */
export const DEFAULT_AUDITED_METHODS: readonly string[] = Object.freeze(['tools/call', 'resources/read', 'prompts/get', 'initialize']);

/** Environment variable that turns on raw arguments in audit records (`true`), like `recordArguments`. */
export const ENV_AUDIT_RECORD_ARGUMENTS = 'OTEL_INSTRUMENTATION_MCP_AUDIT_RECORD_ARGUMENTS';

/** JSON-RPC error code of a request refused because the audit trail cannot be written (`reject` policy). */
export const DEFAULT_AUDIT_REJECT_ERROR_CODE = -32603;

/**
 * What happens to audited requests while the audit trail cannot be written:
 * - `continue`: they are served; the failure is reported through `diag`, records wait in memory.
 * - `reject`: they are refused with a JSON-RPC error before their handler runs (fail closed), until
 *   the trail can be written again.
 */
export type AuditFailurePolicy = 'continue' | 'reject';

export interface AuditSpanProcessorOptions {
  /** Where records go. Give this, or `file` / `directory` for an {@link AppendOnlyFileSink}. */
  sink?: AuditSink;
  /** Options of the {@link AppendOnlyFileSink} to create. */
  file?: AppendOnlyFileSinkOptions;
  /** Shorthand for `file: { directory }`. */
  directory?: string;
  /**
   * Also ship every record over OTLP logs (an {@link OtlpAuditSink} fed by the file sink, which stays
   * the source of truth: what cannot be delivered stays in the local trail). With `directory` or `file` only.
   */
  otlp?: AuditOtlpOptions;
  /**
   * The MCP methods audited.
   * @default ['tools/call', 'resources/read', 'prompts/get', 'initialize']
   */
  methods?: readonly string[];
  /**
   * `server`: requests this process received (SERVER spans); `client`: requests it sent (CLIENT spans,
   * which carry no actor and no argument digest).
   * @default ['server']
   */
  sides?: ReadonlyArray<'server' | 'client'>;
  /**
   * Put the arguments themselves (canonical JSON, secret keys redacted — see `redactArguments` — cut
   * at `maxArgumentsLength`) in records, not only their digest. They are user data: off by default. Also enabled by
   * `OTEL_INSTRUMENTATION_MCP_AUDIT_RECORD_ARGUMENTS=true`.
   * @default false
   */
  recordArguments?: boolean;
  /** @default 4096 */
  maxArgumentsLength?: number;
  /**
   * With `recordArguments`, the values of secret-looking keys (authorization, password, token, api
   * key, secret, cookie, credential… and `redactKeys`) are replaced by `[REDACTED]` in the recorded
   * arguments, at any depth. The digest is always of the arguments as sent. Only an explicit `false`
   * records them verbatim.
   * @default true
   */
  redactArguments?: boolean;
  /**
   * More keys to redact in recorded arguments, as the instrumentation's `redactKeys`: strings match a
   * key case-insensitively as a substring; regular expressions are tested as given.
   * @default []
   */
  redactKeys?: ReadonlyArray<string | RegExp>;
  /** @default 'continue' */
  failurePolicy?: AuditFailurePolicy;
  /** @default -32603 */
  rejectErrorCode?: number;
  /**
   * Requests seen starting but not yet ended that are remembered (their actor and digest wait for
   * the span's end); past this the oldest are forgotten.
   * @default 10000
   */
  maxPendingRequests?: number;
}

interface PendingRequest {
  actor: AuditActor;
  args: AuditArguments | undefined;
  refused: boolean;
}

function hrIso(time: HrTime): string {
  return isoMillis(time[0] * 1e3 + time[1] / 1e6);
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function nameVersion(name: string | undefined, version: string | undefined): { name?: string; version?: string } | undefined {
  if (name === undefined && version === undefined) return undefined;
  return { name, version };
}

/**
 * A span processor that writes an audit record for every audited MCP operation: who (session, client,
 * authenticated client id / subject / scopes — never a token), what (method, tool, prompt or resource,
 * a SHA-256 digest of the arguments), when, with what outcome, and the trace it belongs to; into an
 * append-only, hash-chained trail (by default an {@link AppendOnlyFileSink}).
 *
 * It works with any sampler as long as MCP spans are recorded: wrap the sampler in
 * `McpRecordingSampler` so that a trace sampled out is still audited. Structurally a `SpanProcessor` of
 * the OpenTelemetry SDK 2.x and 3.x lines; it imports neither.
 *
 * ```js
 * new NodeSDK({
 *   sampler: new McpRecordingSampler(new TraceIdRatioBasedSampler(0.1)),
 *   spanProcessors: [new AuditSpanProcessor({ directory: '/var/log/mcp-audit' }), …],
 *   instrumentations: [new McpInstrumentation()],
 * });
 * ```
 */
export class AuditSpanProcessor {
  readonly sink: AuditSink;
  private readonly methods: ReadonlySet<string>;
  private readonly server: boolean;
  private readonly client: boolean;
  private readonly args: ArgumentsPolicy;
  private readonly policy: AuditFailurePolicy;
  private readonly rejectErrorCode: number;
  private readonly maxPending: number;
  private readonly pending = new Map<string, PendingRequest>();
  private readonly removeObserver: () => void;
  private warnedNotRecording = false;
  private warnedEvicted = false;
  private shutDown = false;

  constructor(options: AuditSpanProcessorOptions = {}) {
    if (options.otlp !== undefined && options.sink !== undefined) {
      throw new TypeError('AuditSpanProcessor: `otlp` ships what the file sink writes: give it with `directory` or `file`, not `sink`');
    }
    const ship = options.otlp !== undefined ? new OtlpAuditSink(options.otlp) : undefined;
    if (options.sink !== undefined) this.sink = options.sink;
    else if (options.file !== undefined) this.sink = new AppendOnlyFileSink(ship !== undefined ? { ...options.file, ship } : options.file);
    else if (typeof options.directory === 'string' && options.directory !== '') this.sink = new AppendOnlyFileSink({ directory: options.directory, ship });
    else throw new TypeError('AuditSpanProcessor: give `directory`, `file` or `sink`');
    this.methods = new Set(Array.isArray(options.methods) ? options.methods : DEFAULT_AUDITED_METHODS);
    const sides = new Set(Array.isArray(options.sides) ? options.sides : ['server']);
    this.server = sides.has('server');
    this.client = sides.has('client');
    this.args = {
      record: options.recordArguments ?? envFlag(ENV_AUDIT_RECORD_ARGUMENTS) ?? false,
      maxLength: typeof options.maxArgumentsLength === 'number' && options.maxArgumentsLength > 0 ? Math.floor(options.maxArgumentsLength) : 4096,
      redact: argumentsRedactor(options.redactArguments, options.redactKeys),
    };
    if (options.failurePolicy !== undefined && options.failurePolicy !== 'continue' && options.failurePolicy !== 'reject') {
      throw new TypeError("AuditSpanProcessor: `failurePolicy` is 'continue' or 'reject'");
    }
    this.policy = options.failurePolicy ?? 'continue';
    this.rejectErrorCode = Number.isSafeInteger(options.rejectErrorCode) ? options.rejectErrorCode! : DEFAULT_AUDIT_REJECT_ERROR_CODE;
    this.maxPending = typeof options.maxPendingRequests === 'number' && options.maxPendingRequests > 0 ? Math.floor(options.maxPendingRequests) : 10_000;
    this.removeObserver = addRequestObserver({ onIncomingRequest: (info) => this.onIncomingRequest(info) });
  }

  /** Requests whose start was seen and whose end was not (for diagnostics: it must not grow). */
  get pendingRequests(): number {
    return this.pending.size;
  }

  onStart(_span: Span, _parentContext: Context): void {
    // Nothing: what a record needs is known at the request observer (who, what) and at the end.
  }

  onEnd(span: ReadableSpanLike): void {
    const method = span.attributes[ATTR_MCP_METHOD_NAME];
    if (typeof method !== 'string' || !this.methods.has(method)) return;
    try {
      const isServer = span.kind === SpanKind.SERVER;
      let pending: PendingRequest | undefined;
      if (isServer && this.pending.size > 0) {
        const spanId = span.spanContext().spanId;
        pending = this.pending.get(spanId);
        if (pending !== undefined) this.pending.delete(spanId);
      }
      if (isServer ? !this.server : span.kind !== SpanKind.CLIENT || !this.client) return;
      const summary = summarizeMcpSpan(span);
      if (summary === undefined) return;
      this.sink.append(this.operationOf(summary, span, pending));
    } catch (error) {
      auditDiag.error(`could not make an audit record`, error);
    }
  }

  forceFlush(): Promise<void> {
    return this.sink.flush();
  }

  async shutdown(): Promise<void> {
    if (this.shutDown) return;
    this.shutDown = true;
    this.removeObserver();
    this.pending.clear();
    await this.sink.close();
  }

  private onIncomingRequest(info: IncomingRequestInfo): void {
    if (!this.server || !this.methods.has(info.method)) return;
    let pending: PendingRequest | undefined;
    try {
      if (info.span.isRecording()) {
        pending = { actor: actorOf(info), args: auditArguments(info.method, info.params, this.args), refused: false };
        this.remember(info.span.spanContext().spanId, pending);
      } else if (!this.warnedNotRecording) {
        this.warnedNotRecording = true;
        auditDiag.warn(
          `a ${info.method} request's span is not recorded (sampled out), so it is not audited; ` +
            'wrap the sampler in McpRecordingSampler to audit every operation whatever is sampled',
        );
      }
    } catch (error) {
      auditDiag.error(`could not read an incoming request`, error);
    }
    if (this.policy === 'reject' && !this.sink.healthy && !this.sink.probe()) {
      if (pending !== undefined) pending.refused = true;
      throw Object.assign(new Error('The audit trail cannot be written; the request is refused'), { code: this.rejectErrorCode });
    }
  }

  private remember(spanId: string, pending: PendingRequest): void {
    if (this.pending.size >= this.maxPending) {
      const oldest = this.pending.keys().next().value;
      if (oldest !== undefined) this.pending.delete(oldest);
      if (!this.warnedEvicted) {
        this.warnedEvicted = true;
        auditDiag.warn(`more than ${this.maxPending} audited requests in flight; the oldest lose their actor and digest`);
      }
    }
    this.pending.set(spanId, pending);
  }

  /**
   * The record of an operation. Its objects are built with their members in canonical order (the
   * sink's writer then only checks the order instead of sorting).
   */
  private operationOf(summary: McpSpanSummary, span: ReadableSpanLike, pending: PendingRequest | undefined): AuditOperation {
    let actor: AuditActor | undefined;
    let server: AuditOperation['server'];
    if (summary.side === 'server') {
      const asked = pending?.actor;
      actor = {
        address: stringOf(span.attributes[ATTR_CLIENT_ADDRESS]),
        client: nameVersion(summary.peerName ?? asked?.client?.name, summary.peerVersion ?? asked?.client?.version),
        clientId: asked?.clientId,
        scopes: asked?.scopes,
        session: asked?.session ?? summary.sessionId,
        subject: asked?.subject,
      };
    } else {
      if (summary.sessionId !== undefined) actor = { session: summary.sessionId };
      server = nameVersion(summary.peerName, summary.peerVersion);
    }
    return {
      actor,
      args: pending?.args,
      durationMs: Math.round(summary.latencyMs * 1000) / 1000,
      error: summary.ok ? undefined : { code: summary.errorCode, type: summary.errorType! },
      method: summary.method,
      outcome: pending?.refused === true ? 'refused' : summary.ok ? 'ok' : 'error',
      prompt: summary.prompt,
      requestId: summary.requestId,
      resource: summary.resource,
      server,
      side: summary.side,
      spanId: summary.spanId,
      start: isoMillis(summary.startMs),
      tool: summary.tool,
      traceId: summary.traceId,
      ts: hrIso(span.endTime),
      type: 'op',
    };
  }
}

/** Who sent a request, from the SDK's handler `extra` (and `initialize`'s `clientInfo`). Never the token. */
function actorOf(info: IncomingRequestInfo): AuditActor {
  const actor: AuditActor = {};
  // v1 handlers get `extra.authInfo`; v2 handlers a `ctx` with `http.authInfo`.
  const extra = info.extra as { sessionId?: unknown; authInfo?: unknown; http?: { authInfo?: unknown } } | undefined;
  actor.session = stringOf(extra?.sessionId);
  const auth = (extra?.authInfo ?? extra?.http?.authInfo) as { clientId?: unknown; scopes?: unknown; extra?: unknown } | undefined;
  if (auth !== null && typeof auth === 'object') {
    actor.clientId = stringOf(auth.clientId);
    if (Array.isArray(auth.scopes)) actor.scopes = auth.scopes.filter((s): s is string => typeof s === 'string');
    const claims = auth.extra as { sub?: unknown; subject?: unknown } | undefined;
    if (claims !== null && typeof claims === 'object') actor.subject = stringOf(claims.sub) ?? stringOf(claims.subject);
  }
  if (info.method === 'initialize') {
    const clientInfo = (info.params as { clientInfo?: { name?: unknown; version?: unknown } } | undefined)?.clientInfo;
    if (clientInfo !== null && typeof clientInfo === 'object') {
      const client = nameVersion(stringOf(clientInfo.name), stringOf(clientInfo.version));
      if (client !== undefined) actor.client = client;
    }
  }
  return actor;
}
