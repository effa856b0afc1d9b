/*
 * The public surface of the audit trail (the subpath `opentelemetry-instrumentation-mcp/audit`): the
 * span processor that turns audited MCP operations into hash-chained records, the append-only file
 * sink they go to, and the verifier of the chain (`mcp-otel audit verify`).
 */
export {
  AuditSpanProcessor,
  DEFAULT_AUDITED_METHODS,
  DEFAULT_AUDIT_REJECT_ERROR_CODE,
  ENV_AUDIT_RECORD_ARGUMENTS,
  type AuditFailurePolicy,
  type AuditSpanProcessorOptions,
} from './processor';
export {
  AppendOnlyFileSink,
  AuditLockError,
  type AppendOnlyFileSinkOptions,
  type AuditDurability,
  type AuditSink,
} from './file-sink';
export type { AuditFileSystem } from './file-system';
export { canonicalJson } from './canonical';
export {
  GENESIS_HASH,
  type AuditActor,
  type AuditArguments,
  type AuditOperation,
  type AuditRecord,
  type AuditRecordType,
} from './record';
export {
  verifyAuditTrail,
  type AuditChainReport,
  type AuditVerifyProblem,
  type AuditVerifyResult,
  type VerifyAuditOptions,
} from './verify';
