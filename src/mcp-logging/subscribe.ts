/* `subscribeToServerLogs`: a client subscribes to a connected server's MCP log messages and hands them to a sink. */
import { isWrapped } from '@opentelemetry/instrumentation';
import { isMcpLogLevel, type McpLogLevel } from './levels';

/** One MCP log message, as handed to a sink of {@link subscribeToServerLogs}. */
export interface McpLogMessage {
  level: McpLogLevel;
  logger: string | undefined;
  data: unknown;
  /** The server's name from `initialize`, when known. */
  serverName: string | undefined;
  /** Trace of the request the message relates to, when known. */
  traceId: string | undefined;
  spanId: string | undefined;
}

/** Receives server log messages. A sink that throws is reported through `diag`, never propagated. */
export type McpLogSink = ((message: McpLogMessage) => void) | { writeLogMessage(message: McpLogMessage): void };

const subscribers = new WeakMap<object, Set<McpLogSink>>();

/** Sinks subscribed to the logs received by `protocol`, if any. */
export function logSubscribersOf(protocol: object): Set<McpLogSink> | undefined {
  return subscribers.get(protocol);
}

/** The server did not declare the `logging` capability, so it cannot be subscribed to. */
export class McpLoggingNotSupportedError extends Error {
  override readonly name = 'McpLoggingNotSupportedError';
  constructor(readonly serverName: string | undefined) {
    super(`MCP server ${serverName !== undefined ? `'${serverName}' ` : ''}does not advertise the logging capability`);
  }
}

/** Logs cannot be delivered: no `McpInstrumentation` is enabled for this client's SDK. */
export class McpInstrumentationNotActiveError extends Error {
  override readonly name = 'McpInstrumentationNotActiveError';
  constructor() {
    super('subscribeToServerLogs needs an enabled McpInstrumentation that patched this client\'s MCP SDK');
  }
}

interface ClientLike {
  getServerCapabilities?: () => { logging?: unknown } | undefined;
  getServerVersion?: () => { name?: string } | undefined;
  setLoggingLevel?: (level: McpLogLevel) => Promise<unknown>;
}

function instrumented(client: object): boolean {
  // The patch is on `Protocol.prototype`; a subclass may override `_onnotification` and call `super`
  // (v2's `Client` does), so any wrapped one in the chain counts.
  let proto: unknown = Object.getPrototypeOf(client);
  while (proto !== null && typeof proto === 'object') {
    if (Object.prototype.hasOwnProperty.call(proto, '_onnotification') && isWrapped((proto as { _onnotification?: unknown })._onnotification)) {
      return true;
    }
    proto = Object.getPrototypeOf(proto);
  }
  return false;
}

/**
 * Subscribes to a connected server's log messages: checks that the server advertised `logging`,
 * sends `logging/setLevel`, and hands every `notifications/message` it then receives to `sink` — a
 * function, or an object with `writeLogMessage` (such as the JSON-line log). The application's own
 * `notifications/message` handler, if any, keeps working. Returns a function that unsubscribes.
 *
 * @throws McpLoggingNotSupportedError when the server has no logging capability.
 * @throws McpInstrumentationNotActiveError when no enabled McpInstrumentation patched the client's SDK.
 */
export async function subscribeToServerLogs(
  client: object,
  options: { level?: McpLogLevel; sink: McpLogSink },
): Promise<() => void> {
  const c = client as ClientLike;
  const level = options.level ?? 'info';
  if (!isMcpLogLevel(level)) throw new TypeError(`invalid MCP log level '${String(level)}'`);
  if (typeof options.sink !== 'function' && typeof options.sink?.writeLogMessage !== 'function') {
    throw new TypeError('sink must be a function or an object with writeLogMessage(message)');
  }
  if (typeof c.getServerCapabilities !== 'function' || typeof c.setLoggingLevel !== 'function') {
    throw new TypeError('subscribeToServerLogs needs a connected MCP Client');
  }
  if (c.getServerCapabilities()?.logging === undefined) {
    throw new McpLoggingNotSupportedError(c.getServerVersion?.()?.name);
  }
  if (!instrumented(client)) throw new McpInstrumentationNotActiveError();
  let sinks = subscribers.get(client);
  if (sinks === undefined) subscribers.set(client, (sinks = new Set()));
  sinks.add(options.sink);
  try {
    await c.setLoggingLevel(level);
  } catch (error) {
    sinks.delete(options.sink);
    throw error;
  }
  const registered = sinks;
  return () => {
    registered.delete(options.sink);
  };
}
