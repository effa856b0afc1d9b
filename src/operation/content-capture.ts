/* User content on spans, only when capture is on: tool arguments and results, prompt variables, a tool error's first text. */
import type { Span } from '@opentelemetry/api';
import { capPeerString, promptVariableValue, redactSecretValues, serializeContent } from '../content';
import {
  ATTR_GEN_AI_PROMPT_VARIABLE_PREFIX,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_GEN_AI_TOOL_CALL_RESULT,
} from '../semconv';
import type { Settings } from '../settings';

/** Arguments of a `tools/call` or variables of a `prompts/get`, serialised, redacted and capped. */
export function captureRequestContent(settings: Settings, span: Span, method: string, params: unknown): void {
  const { maxContentLength, redact } = settings;
  if (params === null || typeof params !== 'object') return;
  const args = (params as { arguments?: unknown }).arguments;
  if (args === undefined) return;
  if (method === 'tools/call') {
    span.setAttribute(ATTR_GEN_AI_TOOL_CALL_ARGUMENTS, serializeContent(args, maxContentLength, redact));
  } else if (method === 'prompts/get' && args !== null && typeof args === 'object') {
    for (const name of Object.keys(args)) {
      const value = (args as Record<string, unknown>)[name];
      span.setAttribute(ATTR_GEN_AI_PROMPT_VARIABLE_PREFIX + capPeerString(name), promptVariableValue(name, value, maxContentLength, redact));
    }
  }
}

/** The result of a successful `tools/call`. */
export function captureToolResult(settings: Settings, span: Span, result: unknown): void {
  span.setAttribute(ATTR_GEN_AI_TOOL_CALL_RESULT, serializeContent(result, settings.maxContentLength, settings.redact));
}

/** The first text item of a tool result, cut at `max` characters (then `…`), secrets redacted: a tool error's status description. */
export function firstText(result: unknown, max: number): string | undefined {
  const content = (result as { content?: unknown }).content;
  if (!Array.isArray(content)) return undefined;
  for (const item of content) {
    const text = (item as { type?: unknown; text?: unknown } | null)?.text;
    if ((item as { type?: unknown } | null)?.type === 'text' && typeof text === 'string') {
      return redactSecretValues(capPeerString(text, max + 1));
    }
  }
  return undefined;
}
