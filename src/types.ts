/* The public configuration of `McpInstrumentation` and the types of its hooks. */
import type { Span } from '@opentelemetry/api';
import type { InstrumentationConfig } from '@opentelemetry/instrumentation';

/**
 * Which way a message travelled relative to this process: `outgoing` messages (requests and
 * notifications this process sends) get `CLIENT` spans, `incoming` ones get `SERVER` spans.
 */
export type McpMessageDirection = 'incoming' | 'outgoing';

/** The MCP role this process plays on the connection a message belongs to. */
export type McpRole = 'server' | 'client';

/** What the request hook is told about a message whose span just started. */
export interface McpRequestHookInfo {
  /** `incoming` (a `SERVER` span) or `outgoing` (a `CLIENT` span). */
  direction: McpMessageDirection;
  /** The MCP role of this process on the connection, when known. */
  role: McpRole | undefined;
  /** The JSON-RPC method, e.g. `tools/call`. */
  method: string;
  /** The JSON-RPC id of a request; `undefined` for notifications and for outgoing requests (assigned later). */
  requestId: string | number | undefined;
  /**
   * The message's `params` as sent or received. Read it; never mutate it: it is the application's
   * object (outgoing) or the SDK's (incoming).
   */
  params: unknown;
}

/** What the response hook is told when a message's span is about to end. */
export interface McpResponseHookInfo extends McpRequestHookInfo {
  /** The result of a request that succeeded at the JSON-RPC level (it may still be a tool error). */
  result?: unknown;
  /** The error a request failed with (a JSON-RPC error, a timeout, a closed connection…). */
  error?: unknown;
  /** The `error.type` recorded on the span, when the operation failed. */
  errorType?: string;
}

/** Called right after a span starts. Exceptions are caught and reported through `diag`. */
export type McpRequestHook = (span: Span, info: McpRequestHookInfo) => void;
/** Called right before a span ends. Exceptions are caught and reported through `diag`. */
export type McpResponseHook = (span: Span, info: McpResponseHookInfo) => void;

/** Configuration of {@link McpInstrumentation}. */
export interface McpInstrumentationConfig extends InstrumentationConfig {
  /**
   * Record user content on spans: `gen_ai.tool.call.arguments`, `gen_ai.tool.call.result` and
   * `gen_ai.prompt.variable.<name>`. Values are serialised, capped at {@link maxContentLength}
   * characters and have secret-looking keys redacted. Also enabled by the environment variable
   * `OTEL_INSTRUMENTATION_MCP_CAPTURE_CONTENT=true`.
   * @default false
   */
  captureContent?: boolean;

  /**
   * The largest number of characters one captured content attribute may hold; longer values are cut
   * and end in a truncation marker.
   * @default 4096
   */
  maxContentLength?: number;

  /**
   * More object keys whose values are replaced by `[REDACTED]` in captured content, in addition to
   * the built-in ones (authorization, password, token, api key, secret, cookie, credential…).
   * Strings match a key case-insensitively as a substring; regular expressions are tested as given.
   * @default []
   */
  redactKeys?: Array<string | RegExp>;

  /**
   * Use `mcp.resource.uri` as the span-name target of resource operations
   * (`resources/read {uri}`). Off by default: URIs are high-cardinality.
   * @default false
   */
  resourceUriInSpanName?: boolean;

  /**
   * Methods that get no span and no measurement, e.g. `['ping', 'notifications/progress']`.
   * Their messages pass through untouched (no trace context is injected into them).
   * @default []
   */
  ignoreMethods?: string[];

  /**
   * Tool and prompt names recorded on metrics even when the server never advertised them. A server's
   * `tools/call` and `prompts/get` metrics name only tools and prompts it has: registered on an
   * `McpServer`, or listed in a `tools/list` / `prompts/list` result it sent; any other name is chosen by
   * the peer and recorded as `_OTHER`, so that no client can grow the number of series. A low-level
   * `Server` whose clients call tools without listing them names its tools here. Spans keep every name.
   * @default []
   */
  knownTargetNames?: string[];

  /**
   * When a client calls a tool inside another GenAI instrumentation's `execute_tool` span for the same
   * tool, add the MCP attributes to that span (and propagate its context) instead of nesting a
   * duplicate `tools/call` CLIENT span, as the MCP conventions advise. The outer span stays its
   * owner's to end.
   * @default true
   */
  enrichExecuteToolSpans?: boolean;

  /**
   * Emit every MCP log message (`notifications/message`) this process sends or receives as an
   * OpenTelemetry log record, through the logger provider given to the instrumentation (or the
   * global one). The message's `data` becomes the body only when {@link captureContent} is on.
   * @default true
   */
  bridgeProtocolLogs?: boolean;

  /**
   * Servers: send each client that subscribed with `logging/setLevel` a short `notifications/message`
   * per finished request (method, tool or prompt, latency, outcome — no user content), at `info`
   * (`error` for failures), honouring the session's level. Only servers that declared the `logging`
   * capability do it, and never to clients that did not subscribe.
   * @default false
   */
  forwardOperationLogs?: boolean;

  /**
   * Who called: SERVER spans carry `user.id`, the subject the auth layer verified for the request
   * (`authInfo.extra.sub`, else `authInfo.extra.subject` — the audit trail's `actor.subject`). The
   * token is never read. Off by default: a user id is personal data. Also enabled by the environment
   * variable `OTEL_INSTRUMENTATION_MCP_RECORD_USER=true`.
   * @default false
   */
  recordUser?: boolean;

  /** Called with each span right after it starts. */
  requestHook?: McpRequestHook;

  /** Called with each span right before it ends. */
  responseHook?: McpResponseHook;
}
