/*
 * One MCP operation as one JSON line. The fields, in this order (documented in the README):
 *
 *   ts, level, side, method, tool | prompt | resource, request_id, session_id, latency_ms, ok,
 *   error { type, code, message }, trace_id, span_id, transport, peer_name, peer_version,
 *   arguments, result
 *
 * Fields that do not apply are left out, never `null`. `arguments` / `result` exist only when the
 * span carries `gen_ai.tool.call.arguments` / `.result`, i.e. when the user turned content capture on.
 *
 * The line is built by concatenation: no object is built and serialised. A string value is quoted
 * as is when it holds nothing JSON must escape (the common case: method and tool names, ids), else
 * by `JSON.stringify`, which escapes quotes, backslashes, control characters and lone surrogates.
 */
import type { Attributes } from '@opentelemetry/api';
import { isoMillis, isValidTime } from '../iso-time';
import { ATTR_GEN_AI_TOOL_CALL_ARGUMENTS, ATTR_GEN_AI_TOOL_CALL_RESULT } from '../semconv';
import type { McpSpanSummary } from '../span-summary';

/** What a JSON string must not hold raw: quote, backslash, control characters, surrogates (lone ones need escaping). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** `value` as a JSON string. */
export function q(value: string): string {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}

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
  let line = `{"ts":"${isoTimestamp(s.startMs)}","level":"${s.ok ? 'info' : 'error'}","side":"${s.side}","method":${q(s.method)}`;
  if (s.tool !== undefined) line += `,"tool":${q(s.tool)}`;
  if (s.prompt !== undefined) line += `,"prompt":${q(s.prompt)}`;
  if (s.resource !== undefined) line += `,"resource":${q(s.resource)}`;
  if (s.requestId !== undefined) line += `,"request_id":${q(s.requestId)}`;
  if (s.sessionId !== undefined) line += `,"session_id":${q(s.sessionId)}`;
  line += `,"latency_ms":${latencyMs(s.latencyMs)},"ok":${s.ok}`;
  if (!s.ok) {
    line += `,"error":{"type":${q(s.errorType ?? '_OTHER')}`;
    if (s.errorCode !== undefined && Number.isSafeInteger(s.errorCode)) line += `,"code":${s.errorCode}`;
    if (s.errorMessage !== undefined) line += `,"message":${q(s.errorMessage)}`;
    line += '}';
  }
  line += `,"trace_id":${q(s.traceId)},"span_id":${q(s.spanId)}`;
  if (s.transport !== undefined) line += `,"transport":${q(s.transport)}`;
  if (s.peerName !== undefined) line += `,"peer_name":${q(s.peerName)}`;
  if (s.peerVersion !== undefined) line += `,"peer_version":${q(s.peerVersion)}`;
  const args = attributes[ATTR_GEN_AI_TOOL_CALL_ARGUMENTS];
  if (typeof args === 'string') line += `,"arguments":${q(args)}`;
  const result = attributes[ATTR_GEN_AI_TOOL_CALL_RESULT];
  if (typeof result === 'string') line += `,"result":${q(result)}`;
  return `${line}}\n`;
}
