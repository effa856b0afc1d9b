/* The names the OTLP audit sink gives its log records, read back by the central verifier. */

/** The log record's event name: what tells an audit record from any other log record. */
export const AUDIT_EVENT_NAME = 'mcp.audit.record';
/** The instrumentation scope of the audit's logger. */
export const AUDIT_SCOPE_NAME = 'opentelemetry-instrumentation-mcp/audit';

/** The chain id (a UUID, the segment headers' `chain`). */
export const ATTR_AUDIT_CHAIN = 'mcp.audit.chain';
/** The chain's base name (`audit-<host>-<pid>-<time>` by default). */
export const ATTR_AUDIT_CHAIN_NAME = 'mcp.audit.chain.name';
export const ATTR_AUDIT_SEQ = 'mcp.audit.seq';
export const ATTR_AUDIT_PREV = 'mcp.audit.prev';
export const ATTR_AUDIT_HASH = 'mcp.audit.hash';
export const ATTR_AUDIT_RECORD_TYPE = 'mcp.audit.record.type';
/** The HMAC key's id, on records of a keyed chain. */
export const ATTR_AUDIT_KEY_ID = 'mcp.audit.key_id';
/** The resource attribute that tells replicas apart. */
export const ATTR_SERVICE_INSTANCE_ID = 'service.instance.id';
