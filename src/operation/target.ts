/* What an MCP message is about (its tool, prompt or resource), read from its params, and the span name it gives. */
import { capPeerString } from '../content/cut';

/** The low-cardinality subject of an operation, read from its params. */
export interface MessageTarget {
  toolName: string | undefined;
  promptName: string | undefined;
  resourceUri: string | undefined;
}

const NO_TARGET: MessageTarget = Object.freeze({
  toolName: undefined,
  promptName: undefined,
  resourceUri: undefined,
});

/** A string field of the peer's params, capped in length (names and URIs are the peer's choice). */
function stringField(obj: unknown, key: string): string | undefined {
  if (obj === null || typeof obj !== 'object') return undefined;
  const value = (obj as Record<string, unknown>)[key];
  return typeof value === 'string' ? capPeerString(value) : undefined;
}

export function targetOf(method: string, params: unknown): MessageTarget {
  switch (method) {
    case 'tools/call':
      return { toolName: stringField(params, 'name'), promptName: undefined, resourceUri: undefined };
    case 'prompts/get':
      return { toolName: undefined, promptName: stringField(params, 'name'), resourceUri: undefined };
    case 'resources/read':
    case 'resources/subscribe':
    case 'resources/unsubscribe':
    case 'notifications/resources/updated':
      return { toolName: undefined, promptName: undefined, resourceUri: stringField(params, 'uri') };
    case 'completion/complete': {
      const ref = params !== null && typeof params === 'object' ? (params as { ref?: unknown }).ref : undefined;
      const type = stringField(ref, 'type');
      if (type === 'ref/prompt') return { toolName: undefined, promptName: stringField(ref, 'name'), resourceUri: undefined };
      return NO_TARGET;
    }
    default:
      return NO_TARGET;
  }
}

export function spanNameOf(method: string, target: MessageTarget, resourceUriInName: boolean): string {
  const subject =
    target.toolName ?? target.promptName ?? (resourceUriInName ? target.resourceUri : undefined);
  return subject !== undefined ? `${method} ${subject}` : method;
}
