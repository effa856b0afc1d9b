/*
 * The life of a connection on `Protocol`: `connect` starts it, `_onresponse` tells a sent request's
 * JSON-RPC error, `_oncancel` a received request's cancellation, `_onerror` the last transport error,
 * and `_onclose` (or a stdio server's stdin ending) ends it: in-flight operations end as closed and the
 * session is measured.
 */
import { connectionOf, existingConnectionOf, inFlight, type ConnectionState } from '../connection';
import type { JsonRpcMessageLike, JsonRpcResponseLike, ProtocolLike } from '../internal-types';
import { exceptionType } from '../operation/outcome';
import { safely, type AnyFn, type PatchKit } from './kit';

/** The connection ended: in-flight operations end as closed, and the session is measured. */
function endSession(kit: PatchKit, conn: ConnectionState): void {
  conn.closed = true;
  for (const op of inFlight(conn, 'outgoing')) op.markClosed();
  for (const op of [...inFlight(conn, 'incoming')]) op.finishClosed();
  kit.recordSession(conn);
}

/**
 * A stdio server's session ends when the host closes its stdin, but the SDK's StdioServerTransport
 * does not close on that: the session is ended (and measured) when stdin ends.
 */
function watchStdioEnd(kit: PatchKit, conn: ConnectionState): void {
  const transport = conn.transport as { constructor?: { name?: string }; _stdin?: { once?: unknown } } | undefined;
  if (transport?.constructor?.name !== 'StdioServerTransport') return;
  const stdin = transport._stdin as { once?: (event: string, listener: () => void) => unknown } | undefined;
  if (typeof stdin?.once !== 'function') return;
  stdin.once('end', () =>
    safely(kit, () => {
      if (!conn.closed && kit.active()) endSession(kit, conn);
    }),
  );
}

export function connectWrapper(kit: PatchKit): (original: AnyFn) => AnyFn {
  return (original) =>
    function connect(this: ProtocolLike, ...args: unknown[]): unknown {
      const result = original.apply(this, args);
      // `connect` attaches the transport synchronously: the connection (and its session) starts now.
      safely(kit, () => {
        if (this._transport !== undefined) watchStdioEnd(kit, connectionOf(this));
      });
      return result;
    };
}

export function onResponseWrapper(kit: PatchKit): (original: AnyFn) => AnyFn {
  return (original) =>
    function _onresponse(this: ProtocolLike, received: unknown): unknown {
      const response = received as JsonRpcResponseLike | undefined;
      const error = response?.error;
      if (error !== undefined && error !== null && typeof error === 'object') {
        safely(kit, () => {
          const op = existingConnectionOf(this)?.outgoing?.get(Number(response!.id));
          if (op !== undefined) {
            const code = Number.isSafeInteger(error.code) ? (error.code as number) : Number(error.code);
            op.wireError = { code: Number.isFinite(code) ? code : 0, message: typeof error.message === 'string' ? error.message : undefined };
          }
        });
      }
      return original.call(this, received);
    };
}

export function onCancelWrapper(kit: PatchKit): (original: AnyFn) => AnyFn {
  return (original) =>
    function _oncancel(this: ProtocolLike, ...args: unknown[]): unknown {
      safely(kit, () => {
        const params = (args[0] as JsonRpcMessageLike | undefined)?.params as { requestId?: unknown; reason?: unknown } | undefined;
        const requestId = params?.requestId;
        if (requestId === undefined) return;
        const op = existingConnectionOf(this)?.incoming?.get(requestId);
        if (op !== undefined && op.isRequest) op.finishCancelled(typeof params?.reason === 'string' ? { message: params.reason } : undefined);
      });
      return original.apply(this, args);
    };
}

export function onErrorWrapper(kit: PatchKit): (original: AnyFn) => AnyFn {
  return (original) =>
    function _onerror(this: ProtocolLike, ...args: unknown[]): unknown {
      safely(kit, () => {
        const conn = existingConnectionOf(this);
        if (conn !== undefined) conn.lastErrorType = exceptionType(args[0]);
      });
      return original.apply(this, args);
    };
}

export function onCloseWrapper(kit: PatchKit): (original: AnyFn) => AnyFn {
  return (original) =>
    function _onclose(this: ProtocolLike, ...args: unknown[]): unknown {
      let conn: ConnectionState | undefined;
      safely(kit, () => {
        conn = existingConnectionOf(this);
        if (conn === undefined || conn.closed) conn = undefined;
        else endSession(kit, conn);
      });
      const result = original.apply(this, args);
      if (conn !== undefined) {
        const closing = conn;
        // Requests the SDK rejected on close end through their own promise first; end any left over.
        setImmediate(() =>
          safely(kit, () => {
            for (const op of [...inFlight(closing, 'outgoing')]) op.finishClosed();
          }),
        );
      }
      return result;
    };
}
