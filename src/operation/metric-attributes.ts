/* The attributes of one operation's duration point: bounded values only, peer-chosen names folded into `_OTHER`. */
import type { Attributes } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';
import { addConnectionAttributes, CONN_SERVER, METRIC_CONNECTION } from '../attributes';
import type { ConnectionState } from '../connection';
import {
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROMPT_NAME,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_MCP_METHOD_NAME,
  ATTR_RPC_RESPONSE_STATUS_CODE,
  GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL,
} from '../semconv';
import type { McpMessageDirection } from '../types';
import { ERROR_CODE_INVALID_PARAMS, ERROR_CODE_METHOD_NOT_FOUND, ERROR_TYPE_OTHER, type Outcome } from './outcome';
import type { MessageTarget } from './target';

/** What the metric attributes of an operation are made of. */
export interface MeasuredOperation {
  readonly conn: ConnectionState;
  readonly direction: McpMessageDirection;
  readonly method: string;
  readonly target: MessageTarget;
  /** Whether the tool or prompt it names is one the server has (`undefined`: cannot be known). */
  readonly targetRegistered: boolean | undefined;
  /** The HTTP version of the request that carried it, when known. */
  readonly httpVersion: string | undefined;
  /** A received message no handler takes (its method is the peer's choice). */
  readonly unhandled: boolean;
}

/**
 * Unknown methods and unknown tool or prompt names are chosen by the peer: on metrics they become
 * `_OTHER`, so that no peer can grow the number of series.
 */
export function metricAttributes(op: MeasuredOperation, outcome: Outcome): Attributes {
  const peerChosenMethod = op.unhandled || outcome.statusCode === ERROR_CODE_METHOD_NOT_FOUND;
  const attributes: Attributes = { [ATTR_MCP_METHOD_NAME]: peerChosenMethod ? ERROR_TYPE_OTHER : op.method };
  let { toolName, promptName } = op.target;
  const unknownTarget =
    op.targetRegistered === false || (op.targetRegistered === undefined && outcome.statusCode === ERROR_CODE_INVALID_PARAMS);
  if (unknownTarget) {
    if (toolName !== undefined) toolName = ERROR_TYPE_OTHER;
    if (promptName !== undefined) promptName = ERROR_TYPE_OTHER;
  }
  if (toolName !== undefined) {
    attributes[ATTR_GEN_AI_TOOL_NAME] = toolName;
    if (op.method === 'tools/call') attributes[ATTR_GEN_AI_OPERATION_NAME] = GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL;
  }
  if (promptName !== undefined) attributes[ATTR_GEN_AI_PROMPT_NAME] = promptName;
  if (outcome.errorType !== undefined) attributes[ATTR_ERROR_TYPE] = outcome.errorType;
  if (outcome.statusCode !== undefined) attributes[ATTR_RPC_RESPONSE_STATUS_CODE] = String(outcome.statusCode);
  addConnectionAttributes(attributes, op.conn, op.direction === 'outgoing' ? METRIC_CONNECTION | CONN_SERVER : METRIC_CONNECTION, op.httpVersion);
  return attributes;
}
