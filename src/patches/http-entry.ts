/*
 * The HTTP entries of the SDK's server transports (`handleRequest`, `handlePostMessage`) and the handlers
 * v2's `toNodeHandler` makes: each runs with the HTTP peer of its Node request in `httpPeerStorage`, so
 * that the SERVER spans of the MCP messages in that request carry `client.address` and the HTTP version.
 */
import { httpPeerOf, httpPeerStorage } from '../connection';
import type { AnyFn, PatchKit } from './kit';

/** Marks the node handlers and `toNodeHandler` wrappers this module made. */
const OURS = Symbol('opentelemetry-instrumentation-mcp.http-entry');
type Marked = { [OURS]?: true };

/** `handleRequest(req, res, body)` / `handlePostMessage(req, res, body)` of a server transport. */
export function httpEntryWrapper(): (original: AnyFn) => AnyFn {
  return (original) =>
    function patchedHttpEntry(this: unknown, ...args: unknown[]): unknown {
      let peer;
      try {
        peer = httpPeerOf(args[0]);
      } catch {
        peer = undefined;
      }
      return peer === undefined ? original.apply(this, args) : httpPeerStorage.run(peer, () => original.apply(this, args));
    };
}

/** A handler `toNodeHandler` returned, run with the peer of its Node request in `httpPeerStorage`. */
function nodeHandlerWithPeer(kit: PatchKit, nodeHandler: AnyFn): AnyFn {
  // Three parameters, like the SDK's `(req, res, parsedBody)`: frameworks read a handler's arity.
  const handler = function (this: unknown, req: unknown, _res: unknown, _parsedBody: unknown): unknown {
    let peer;
    try {
      peer = kit.active() ? httpPeerOf(req) : undefined;
    } catch {
      peer = undefined;
    }
    if (peer === undefined) return nodeHandler.apply(this, arguments as unknown as unknown[]);
    return httpPeerStorage.run(peer, Reflect.apply, nodeHandler, this, arguments);
  };
  (handler as Marked)[OURS] = true;
  return handler as AnyFn;
}

/** `@modelcontextprotocol/node`'s `toNodeHandler(...)`: the handlers it makes carry the HTTP peer. */
export function toNodeHandlerWrapper(kit: PatchKit): (original: AnyFn) => AnyFn {
  return (original) => {
    const wrapped = function toNodeHandler(this: unknown): unknown {
      const nodeHandler = original.apply(this, arguments as unknown as unknown[]);
      return typeof nodeHandler === 'function' ? nodeHandlerWithPeer(kit, nodeHandler as AnyFn) : nodeHandler;
    };
    (wrapped as Marked)[OURS] = true;
    return wrapped as AnyFn;
  };
}
