/* The configuration resolved once per `setConfig`, so that hot paths read plain fields. */
import type { McpInstrumentationConfig, McpRequestHook, McpResponseHook } from './types';
import { createKeyRedactor, type KeyRedactor } from './content';
import { envFlag } from './env';

/** Environment variable that turns content capture on (`true`) without code. */
export const ENV_CAPTURE_CONTENT = 'OTEL_INSTRUMENTATION_MCP_CAPTURE_CONTENT';

/** Environment variable that turns `recordUser` on (`true`) without code. */
export const ENV_RECORD_USER = 'OTEL_INSTRUMENTATION_MCP_RECORD_USER';

export const DEFAULT_MAX_CONTENT_LENGTH = 4096;

/** The configuration resolved once per `setConfig`, so that hot paths read plain fields. */
export interface Settings {
  readonly captureContent: boolean;
  readonly maxContentLength: number;
  readonly redact: KeyRedactor;
  readonly resourceUriInSpanName: boolean;
  readonly ignoreMethods: ReadonlySet<string>;
  readonly knownTargetNames: ReadonlySet<string>;
  readonly enrichExecuteToolSpans: boolean;
  readonly bridgeProtocolLogs: boolean;
  readonly forwardOperationLogs: boolean;
  readonly recordUser: boolean;
  readonly requestHook: McpRequestHook | undefined;
  readonly responseHook: McpResponseHook | undefined;
}

export function resolveSettings(config: McpInstrumentationConfig): Settings {
  const maxContentLength =
    typeof config.maxContentLength === 'number' && Number.isFinite(config.maxContentLength) && config.maxContentLength > 0
      ? Math.floor(config.maxContentLength)
      : DEFAULT_MAX_CONTENT_LENGTH;
  return {
    captureContent: config.captureContent ?? envFlag(ENV_CAPTURE_CONTENT) ?? false,
    maxContentLength,
    redact: createKeyRedactor(config.redactKeys),
    resourceUriInSpanName: config.resourceUriInSpanName === true,
    ignoreMethods: new Set(Array.isArray(config.ignoreMethods) ? config.ignoreMethods : []),
    knownTargetNames: new Set(Array.isArray(config.knownTargetNames) ? config.knownTargetNames.filter((name) => typeof name === 'string') : []),
    enrichExecuteToolSpans: config.enrichExecuteToolSpans !== false,
    bridgeProtocolLogs: config.bridgeProtocolLogs !== false,
    forwardOperationLogs: config.forwardOperationLogs === true,
    recordUser: config.recordUser ?? envFlag(ENV_RECORD_USER) ?? false,
    requestHook: typeof config.requestHook === 'function' ? config.requestHook : undefined,
    responseHook: typeof config.responseHook === 'function' ? config.responseHook : undefined,
  };
}
