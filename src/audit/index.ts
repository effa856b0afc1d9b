/*
 * The public surface of the audit trail (the subpath `opentelemetry-instrumentation-mcp/audit`): the
 * span processor that turns audited MCP operations into hash-chained records, the append-only file
 * sink they go to (and the OTLP sink that ships them on), and the verifiers of the chain, local and
 * collected (`mcp-otel audit verify`).
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
  type AuditRecordShipper,
  type AuditSink,
} from './file-sink';
export type { WrittenRecord as AuditWrittenRecord } from './chain-writer';
export { OtlpAuditSink, type AuditOtlpOptions, type AuditOtlpProtocol } from './otlp-sink';
export {
  verifyCollectedAuditTrail,
  type AuditCollectedChainReport,
  type AuditCollectedProblem,
  type AuditCollectedVerifyResult,
  type VerifyCollectedOptions,
} from './verify-collected';
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
