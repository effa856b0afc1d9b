/*
 * Shapes of the MCP SDK's internals that this package reads. Every field is optional: the SDK is
 * duck-typed, never trusted, so that another version's differences degrade telemetry, not the app.
 */

export interface JsonRpcMessageLike {
  jsonrpc?: unknown;
  method?: unknown;
  id?: unknown;
  params?: unknown;
}

export interface JsonRpcResponseLike {
  id?: unknown;
  result?: unknown;
  error?: { code?: unknown; message?: unknown } | undefined;
}

export interface TransportLike {
  sessionId?: unknown;
  _url?: unknown;
  constructor?: { name?: string };
}

export type HandlerFn = (message: unknown, extra?: unknown) => unknown;

export interface RequestOptionsLike {
  signal?: AbortSignal;
}

export interface ProtocolLike {
  _transport?: TransportLike;
  _requestMessageId?: number;
  _requestHandlers?: Map<string, HandlerFn>;
  _notificationHandlers?: Map<string, HandlerFn>;
  _options?: { debouncedNotificationMethods?: string[] };
  fallbackRequestHandler?: HandlerFn;
  fallbackNotificationHandler?: HandlerFn;
  _oninitialize?: unknown;
  getServerVersion?: unknown;
}

/** The parts of a handler's `extra` argument that are read. */
export interface HandlerExtraLike {
  signal?: AbortSignal;
  sessionId?: unknown;
}
