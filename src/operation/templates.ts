/*
 * What every span of one kind of operation (direction, method, tool or prompt name) starts with: its
 * name and attributes, built once and reused, so that a call builds no attribute object. Connections
 * described alike (role, version, peer, network, server) share one set: a thousand sessions of one
 * client hold one set of templates, not a thousand. Rebuilt when what describes a connection changes.
 */
import type { Attributes } from '@opentelemetry/api';
import { addConnectionAttributes, CONN_SERVER, CONN_SESSION, SPAN_CONNECTION } from '../attributes';
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
 * resource, session id, HTTP peer) are added per call. Never modified once made, except for the lazily
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

/** By method: the template, or (for a method naming a tool or prompt) the templates by that name. */
type ByMethod = Map<string, OperationTemplate | Map<string, OperationTemplate>>;

/** The templates of the connections described alike. */
interface TemplateSet {
  incoming: ByMethod | undefined;
  outgoing: ByMethod | undefined;
  /** Templates in the set (bounded: methods and names can be chosen by the peer). */
  size: number;
}

/** Templates per set; beyond this, operations are described afresh each time. */
const MAX_TEMPLATES = 256;
/**
 * Descriptions remembered for sharing. Past this (peers can choose their names) the table starts
 * afresh: connections keep the sets they hold, and memory stays bounded by the open connections.
 */
const MAX_SHARED_SETS = 64;

const shared = new Map<string, TemplateSet>();

/** Everything `addConnectionAttributes` reads for a span but the session id, as one key (made once per revision). */
function descriptionKey(conn: ConnectionState): string {
  // \u0000 separates the parts; \u0001 stands for absent (neither can be in a version or a capped name
  // it is confused with: a part is a whole string or absent).
  const part = (value: string | number | undefined): string => (value === undefined ? '\u0001' : String(value));
  return [
    conn.role,
    conn.protocolVersion,
    conn.networkTransport,
    conn.networkProtocolName,
    conn.networkProtocolVersion,
    conn.peerName,
    conn.peerVersion,
    conn.serverAddress,
    conn.serverPort,
  ]
    .map(part)
    .join('\u0000');
}

function templateSetOf(conn: ConnectionState): TemplateSet {
  if (conn.templateRevision === conn.revision) return conn.templateSet as TemplateSet;
  const key = descriptionKey(conn);
  let set = shared.get(key);
  if (set === undefined) {
    set = { incoming: undefined, outgoing: undefined, size: 0 };
    if (shared.size >= MAX_SHARED_SETS) shared.clear();
    shared.set(key, set);
  }
  conn.templateSet = set;
  conn.templateRevision = conn.revision;
  return set;
}

export function templateOf(conn: ConnectionState, direction: McpMessageDirection, method: string, target: MessageTarget): OperationTemplate {
  const set = templateSetOf(conn);
  let byMethod = direction === 'incoming' ? set.incoming : set.outgoing;
  if (byMethod === undefined) {
    byMethod = new Map();
    if (direction === 'incoming') set.incoming = byMethod;
    else set.outgoing = byMethod;
  }
  const subject = target.toolName ?? target.promptName;
  const entry = byMethod.get(method);
  let template: OperationTemplate | undefined;
  if (subject === undefined) {
    // A method never names a subject in one message and not in another but by the peer's choice: a
    // mismatch is described afresh.
    if (entry === undefined || entry instanceof Map) template = undefined;
    else template = entry;
    if (template !== undefined) return template;
    template = makeTemplate(conn, direction, method, target);
    if (entry === undefined && set.size < MAX_TEMPLATES) {
      byMethod.set(method, template);
      set.size++;
    }
    return template;
  }
  let names: Map<string, OperationTemplate> | undefined;
  if (entry instanceof Map) names = entry;
  else if (entry === undefined && set.size < MAX_TEMPLATES) byMethod.set(method, (names = new Map()));
  template = names?.get(subject);
  if (template !== undefined) return template;
  template = makeTemplate(conn, direction, method, target);
  if (names !== undefined && set.size < MAX_TEMPLATES) {
    names.set(subject, template);
    set.size++;
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
  // The session id differs per connection: added per call (./start).
  const parts = SPAN_CONNECTION & ~CONN_SESSION;
  addConnectionAttributes(attributes, conn, direction === 'outgoing' ? parts | CONN_SERVER : parts);
  return { name: spanNameOf(method, target, false), attributes, okMetric: undefined, okMetricHttpVersion: undefined };
}

/** How many descriptions are remembered for sharing (for tests: bounded whatever the peers' names). */
export function sharedTemplateSetCount(): number {
  return shared.size;
}
