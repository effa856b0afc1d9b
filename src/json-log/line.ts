/*
 * One MCP operation as one JSON line. The fields, in this order (documented in the README):
 *
 *   ts, level, side, method, tool | prompt | resource, request_id, session_id, latency_ms, ok,
 *   error { type, code, message }, trace_id, span_id, transport, peer_name, peer_version, user_id,
 *   trace_in, arguments, result
 *
 * `trace_in` (server side): `meta` when the operation continued a trace that arrived in `_meta`, `none`
 * when the request brought no usable trace context (left out where the span cannot tell).
 *
 * Fields that do not apply are left out, never `null`. `arguments` / `result` exist only when the
 * span carries `gen_ai.tool.call.arguments` / `.result`, i.e. when the user turned content capture on.
 *
 * The line is built by concatenation: no object is built and serialised; strings are written by
 * `jsonString`.
 */
import type { Attributes } from '@opentelemetry/api';
import { isoMillis, isValidTime } from '../iso-time';
import { jsonString } from '../json-string';
import { ATTR_GEN_AI_TOOL_CALL_ARGUMENTS, ATTR_GEN_AI_TOOL_CALL_RESULT } from '../semconv';
import type { McpSpanSummary } from '../span-summary';

/** Milliseconds rounded to the nanosecond, the resolution of the span's clock. */
export function latencyMs(ms: number): number {
  return Number.isFinite(ms) && ms > 0 ? Math.round(ms * 1e6) / 1e6 : 0;
}

const EPOCH_ISO = new Date(0).toISOString();

/** ISO 8601, UTC, millisecond precision (the epoch for a time a `Date` cannot hold). */
export function isoTimestamp(epochMs: number): string {
  return isValidTime(epochMs) ? isoMillis(epochMs) : EPOCH_ISO;
}

/** The log line of one finished MCP operation, ending in `\n`. */
export function formatLogLine(s: McpSpanSummary, attributes: Attributes): string {
  let line = `{"ts":"${isoTimestamp(s.startMs)}","level":"${s.ok ? 'info' : 'error'}","side":"${s.side}","method":${jsonString(s.method)}`;
  if (s.tool !== undefined) line += `,"tool":${jsonString(s.tool)}`;
  if (s.prompt !== undefined) line += `,"prompt":${jsonString(s.prompt)}`;
  if (s.resource !== undefined) line += `,"resource":${jsonString(s.resource)}`;
  if (s.requestId !== undefined) line += `,"request_id":${jsonString(s.requestId)}`;
  if (s.sessionId !== undefined) line += `,"session_id":${jsonString(s.sessionId)}`;
  line += `,"latency_ms":${latencyMs(s.latencyMs)},"ok":${s.ok}`;
  if (!s.ok) {
    line += `,"error":{"type":${jsonString(s.errorType ?? '_OTHER')}`;
    if (s.errorCode !== undefined && Number.isSafeInteger(s.errorCode)) line += `,"code":${s.errorCode}`;
    if (s.errorMessage !== undefined) line += `,"message":${jsonString(s.errorMessage)}`;
    line += '}';
  }
  line += `,"trace_id":${jsonString(s.traceId)},"span_id":${jsonString(s.spanId)}`;
  if (s.transport !== undefined) line += `,"transport":${jsonString(s.transport)}`;
  if (s.peerName !== undefined) line += `,"peer_name":${jsonString(s.peerName)}`;
  if (s.peerVersion !== undefined) line += `,"peer_version":${jsonString(s.peerVersion)}`;
  if (s.userId !== undefined) line += `,"user_id":${jsonString(s.userId)}`;
  if (s.continuedTrace !== undefined) line += s.continuedTrace ? ',"trace_in":"meta"' : ',"trace_in":"none"';
  const args = attributes[ATTR_GEN_AI_TOOL_CALL_ARGUMENTS];
  if (typeof args === 'string') line += `,"arguments":${jsonString(args)}`;
  const result = attributes[ATTR_GEN_AI_TOOL_CALL_RESULT];
  if (typeof result === 'string') line += `,"result":${jsonString(result)}`;
  return `${line}}\n`;
}
