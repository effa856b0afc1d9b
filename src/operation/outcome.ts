/*
 * How an MCP operation ended, classified: `error.type`, `rpc.response.status_code` and the span status
 * for results, JSON-RPC errors, handler exceptions and local failures (timeout, cancellation, close).
 */

/** JSON-RPC codes that mean the caller erred; they do not mark a SERVER span as failed. */
const CALLER_FAULT_CODES = new Set([-32700, -32600, -32601, -32602, -32002]);

export const ERROR_CODE_INTERNAL = -32603;
export const ERROR_CODE_METHOD_NOT_FOUND = -32601;
export const ERROR_CODE_INVALID_PARAMS = -32602;
export const ERROR_CODE_CONNECTION_CLOSED = -32000;
export const ERROR_CODE_REQUEST_TIMEOUT = -32001;

/** `error.type` values this package uses for failures that carry no JSON-RPC code. */
export const ERROR_TYPE_TOOL_ERROR = 'tool_error';
export const ERROR_TYPE_TIMEOUT = 'timeout';
export const ERROR_TYPE_CANCELLED = 'cancelled';
export const ERROR_TYPE_CONNECTION_CLOSED = 'connection_closed';
export const ERROR_TYPE_OTHER = '_OTHER';

/** How an operation ended. `errorType === undefined` means it succeeded. */
export interface Outcome {
  errorType: string | undefined;
  /** The JSON-RPC error code of the response, when there was one. */
  statusCode: number | undefined;
  /** Span status description (the JSON-RPC error message, or the failure's message). */
  message: string | undefined;
  /** Whether the span status is ERROR (false for caller faults on SERVER spans). */
  markError: boolean;
  /** An exception worth an exception event (an unexpected throw in a handler). */
  exception: unknown;
}

export const OK: Outcome = Object.freeze({
  errorType: undefined,
  statusCode: undefined,
  message: undefined,
  markError: false,
  exception: undefined,
});

export function isCallerFault(code: number): boolean {
  return CALLER_FAULT_CODES.has(code);
}

/** Whether a request's result is a `CallToolResult` that reports a tool error. */
export function isToolErrorResult(method: string, result: unknown): boolean {
  return (
    method === 'tools/call' &&
    result !== null &&
    typeof result === 'object' &&
    (result as { isError?: unknown }).isError === true
  );
}

export function toolErrorOutcome(): Outcome {
  return { errorType: ERROR_TYPE_TOOL_ERROR, statusCode: undefined, message: undefined, markError: true, exception: undefined };
}

/** The outcome of a JSON-RPC error response with `code` and `message`. */
export function jsonRpcErrorOutcome(code: number, message: string | undefined, onServer: boolean): Outcome {
  return {
    errorType: String(code),
    statusCode: code,
    message,
    markError: !(onServer && isCallerFault(code)),
    exception: undefined,
  };
}

/**
 * The outcome of a request handler that threw: the SDK answers with the error's integer `code`, or
 * -32603 (Internal error), and the error's message. `protocol`: the receiving Server or Client, whose
 * SDK may encode the code for the wire (v2 sends -32002 as -32602).
 */
export function handlerErrorOutcome(error: unknown, protocol?: object): Outcome {
  const code = (error as { code?: unknown } | null)?.code;
  const message = (error as { message?: unknown } | null)?.message;
  const hasCode = Number.isSafeInteger(code);
  const outcome = jsonRpcErrorOutcome(
    hasCode ? wireErrorCode(protocol, code as number) : ERROR_CODE_INTERNAL,
    typeof message === 'string' ? message : 'Internal error',
    true,
  );
  if (!hasCode) outcome.exception = error;
  return outcome;
}

interface WireCodecLike {
  encodeErrorCode?: (code: number) => unknown;
}

/**
 * The code a handler's thrown `code` goes on the wire as: v2's `Protocol` passes it through the
 * negotiated era's codec (`_negotiatedWireCodec().encodeErrorCode`), 1.x sends it as it is.
 */
function wireErrorCode(protocol: object | undefined, code: number): number {
  const codecOf = (protocol as { _negotiatedWireCodec?: unknown } | undefined)?._negotiatedWireCodec;
  if (typeof codecOf !== 'function') return code;
  try {
    const encoded = (codecOf.call(protocol) as WireCodecLike | undefined)?.encodeErrorCode?.(code);
    return Number.isSafeInteger(encoded) ? (encoded as number) : code;
  } catch {
    return code;
  }
}

export function localFailureOutcome(errorType: string, error: unknown, markError = true): Outcome {
  const message = (error as { message?: unknown } | null)?.message;
  return {
    errorType,
    statusCode: undefined,
    message: typeof message === 'string' ? message : errorType,
    markError,
    exception: undefined,
  };
}

/**
 * `error.type` for an exception that is not a JSON-RPC error: its class name, else `_OTHER`. v2's
 * `SdkError` (every local failure of the v2 SDK, told apart by a string `code`) gives the values 1.x
 * gives for the same failures (`timeout`, `connection_closed`), else its code (`NOT_CONNECTED`,
 * `SEND_FAILED`, `INVALID_RESULT`, `CAPABILITY_NOT_SUPPORTED`, `CLIENT_HTTP_…`).
 */
export function exceptionType(error: unknown): string {
  const sdkType = sdkErrorType(error);
  if (sdkType !== undefined) return sdkType;
  if (error !== null && typeof error === 'object') {
    const name = (error as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof name === 'string' && name !== '' && name !== 'Object') return name;
  }
  return ERROR_TYPE_OTHER;
}

/** The v2 SDK's brands of its local-error classes (`SdkError`, `SdkHttpError`), read off the class. */
const SDK_ERROR_BRANDS = new Set(['mcp.SdkError', 'mcp.SdkHttpError']);

/** `error.type` of a v2 `SdkError`; `undefined` for anything else. */
function sdkErrorType(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || code === '') return undefined;
  const brand = (error.constructor as { mcpBrand?: unknown } | undefined)?.mcpBrand;
  const isSdkError = typeof brand === 'string' ? SDK_ERROR_BRANDS.has(brand) : error.name === 'SdkError' || error.name === 'SdkHttpError';
  if (!isSdkError) return undefined;
  if (code === 'REQUEST_TIMEOUT') return ERROR_TYPE_TIMEOUT;
  if (code === 'CONNECTION_CLOSED') return ERROR_TYPE_CONNECTION_CLOSED;
  return code;
}

/** A request timeout: v1's `McpError` -32001, v2's `SdkError` `REQUEST_TIMEOUT`. */
export function isTimeout(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === ERROR_CODE_REQUEST_TIMEOUT || code === 'REQUEST_TIMEOUT';
}
