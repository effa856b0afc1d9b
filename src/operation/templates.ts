/*
 * What every span of one kind of operation (direction, method, tool or prompt name) on one connection
 * starts with: its name and attributes, built once per connection and reused, so that a call builds no
 * attribute object. Rebuilt when what they are made of (version, peer, session) changes.
 */
import type { Attributes } from '@opentelemetry/api';
import { addConnectionAttributes, CONN_SERVER, SPAN_CONNECTION } from '../attributes';
import type { ConnectionState } from '../connection';
import {
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROMPT_NAME,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_MCP_METHOD_NAME,
  GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL,
} from '../semconv';
import type { McpMessageDirection } from '../types';
import { spanNameOf, type MessageTarget } from './target';

/**
 * Handed to `startSpan` as they are (the SDK copies attributes); the per-call ones (request id,
 * resource, HTTP peer) are added to the span itself. Never modified once made, except for the lazily
 * made metric attributes of a success.
 */
export interface OperationTemplate {
  /** The span name, unless it names a resource (then it is made per call). */
  readonly name: string;
  readonly attributes: Attributes;
  /** The metric attributes of a successful operation, made on first use (for that HTTP version). */
  okMetric: Attributes | undefined;
  okMetricHttpVersion: string | undefined;
}

interface Templates {
  /** The connection's revision and the transport's session id the templates were made with. */
  readonly revision: number;
  readonly sessionId: unknown;
  /** By method, for operations without a tool or prompt name. */
  readonly incoming: Map<string, OperationTemplate>;
  readonly outgoing: Map<string, OperationTemplate>;
  /** By method, then by tool or prompt name. */
  readonly incomingByName: Map<string, Map<string, OperationTemplate>>;
  readonly outgoingByName: Map<string, Map<string, OperationTemplate>>;
  /** Entries in all maps together (bounded: methods and names can be chosen by the peer). */
  size: number;
}

/** Templates per connection, all kinds together; beyond this, operations are described afresh each time. */
const MAX_TEMPLATES = 256;

const byConnection = new WeakMap<ConnectionState, Templates>();

function templatesOf(conn: ConnectionState): Templates {
  const sessionId = conn.transport?.sessionId;
  let templates = byConnection.get(conn);
  if (templates === undefined || templates.revision !== conn.revision || templates.sessionId !== sessionId) {
    templates = {
      revision: conn.revision,
      sessionId,
      incoming: new Map(),
      outgoing: new Map(),
      incomingByName: new Map(),
      outgoingByName: new Map(),
      size: 0,
    };
    byConnection.set(conn, templates);
  }
  return templates;
}

export function templateOf(conn: ConnectionState, direction: McpMessageDirection, method: string, target: MessageTarget): OperationTemplate {
  const templates = templatesOf(conn);
  const subject = target.toolName ?? target.promptName;
  let map: Map<string, OperationTemplate>;
  let key: string;
  if (subject === undefined) {
    map = direction === 'incoming' ? templates.incoming : templates.outgoing;
    key = method;
  } else {
    const byName = direction === 'incoming' ? templates.incomingByName : templates.outgoingByName;
    let names = byName.get(method);
    if (names === undefined) {
      names = new Map();
      byName.set(method, names);
    }
    map = names;
    key = subject;
  }
  let template = map.get(key);
  if (template === undefined) {
    template = makeTemplate(conn, direction, method, target);
    if (templates.size < MAX_TEMPLATES) {
      map.set(key, template);
      templates.size++;
    }
  }
  return template;
}

function makeTemplate(conn: ConnectionState, direction: McpMessageDirection, method: string, target: MessageTarget): OperationTemplate {
  const attributes: Attributes = { [ATTR_MCP_METHOD_NAME]: method };
  if (target.toolName !== undefined) {
    attributes[ATTR_GEN_AI_TOOL_NAME] = target.toolName;
    if (method === 'tools/call') attributes[ATTR_GEN_AI_OPERATION_NAME] = GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL;
  }
  if (target.promptName !== undefined) attributes[ATTR_GEN_AI_PROMPT_NAME] = target.promptName;
  addConnectionAttributes(attributes, conn, direction === 'outgoing' ? SPAN_CONNECTION | CONN_SERVER : SPAN_CONNECTION);
  return { name: spanNameOf(method, target, false), attributes, okMetric: undefined, okMetricHttpVersion: undefined };
}

