/*
 * Unstable (Development) semantic-convention names used by this package.
 *
 * The MCP conventions live in the GenAI semantic conventions (`docs/gen-ai/mcp.md`) and are exported
 * only from the *incubating* entry point of `@opentelemetry/semantic-conventions`, which must not be
 * imported at run time. They are copied here, as the OpenTelemetry contrib packages do. Stable names
 * (`error.type`, `network.*`, `server.*`, `client.*`) come from the package's main entry.
 */

export const ATTR_MCP_METHOD_NAME = 'mcp.method.name' as const;
export const ATTR_MCP_PROTOCOL_VERSION = 'mcp.protocol.version' as const;
export const ATTR_MCP_RESOURCE_URI = 'mcp.resource.uri' as const;
export const ATTR_MCP_SESSION_ID = 'mcp.session.id' as const;

export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name' as const;
export const GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL = 'execute_tool' as const;
export const ATTR_GEN_AI_TOOL_NAME = 'gen_ai.tool.name' as const;
export const ATTR_GEN_AI_PROMPT_NAME = 'gen_ai.prompt.name' as const;
export const ATTR_GEN_AI_TOOL_CALL_ARGUMENTS = 'gen_ai.tool.call.arguments' as const;
export const ATTR_GEN_AI_TOOL_CALL_RESULT = 'gen_ai.tool.call.result' as const;
/** Prefix of the opt-in `gen_ai.prompt.variable.<name>` attributes. */
export const ATTR_GEN_AI_PROMPT_VARIABLE_PREFIX = 'gen_ai.prompt.variable.' as const;

export const ATTR_JSONRPC_REQUEST_ID = 'jsonrpc.request.id' as const;
export const ATTR_JSONRPC_PROTOCOL_VERSION = 'jsonrpc.protocol.version' as const;

/**
 * The JSON-RPC error code of a response. The MCP document names it `rpc.response.status_code`; core
 * RPC conventions renamed the attribute `rpc.status_code` in 2026. This package emits the MCP
 * document's name, from this one constant.
 */
export const ATTR_RPC_RESPONSE_STATUS_CODE = 'rpc.response.status_code' as const;

/*
 * Not (yet) in the conventions: the peer's self-reported identity from `initialize`
 * (`clientInfo` / `serverInfo`). Named after the MCP schema fields.
 */
export const ATTR_MCP_CLIENT_NAME = 'mcp.client.name' as const;
export const ATTR_MCP_CLIENT_VERSION = 'mcp.client.version' as const;
export const ATTR_MCP_SERVER_NAME = 'mcp.server.name' as const;
export const ATTR_MCP_SERVER_VERSION = 'mcp.server.version' as const;

/** The caller's identity (opt-in `recordUser`): the auth layer's subject, never a credential. */
export const ATTR_USER_ID = 'user.id' as const;

/** `_meta` keys of the 2026-07-28 per-request envelope. */
export const META_KEY_PROTOCOL_VERSION = 'io.modelcontextprotocol/protocolVersion' as const;
export const META_KEY_CLIENT_INFO = 'io.modelcontextprotocol/clientInfo' as const;
export const META_KEY_LOG_LEVEL = 'io.modelcontextprotocol/logLevel' as const;

export const METRIC_MCP_SERVER_OPERATION_DURATION = 'mcp.server.operation.duration' as const;
export const METRIC_MCP_CLIENT_OPERATION_DURATION = 'mcp.client.operation.duration' as const;
export const METRIC_MCP_SERVER_SESSION_DURATION = 'mcp.server.session.duration' as const;
export const METRIC_MCP_CLIENT_SESSION_DURATION = 'mcp.client.session.duration' as const;

/** Explicit bucket boundaries (seconds) the conventions advise for every MCP duration histogram. */
export const MCP_DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300,
]);

export const NETWORK_TRANSPORT_VALUE_PIPE = 'pipe' as const;
export const NETWORK_TRANSPORT_VALUE_TCP = 'tcp' as const;
