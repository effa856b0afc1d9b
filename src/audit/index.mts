// The ESM entry of the audit subpath: it re-exports the CommonJS build, so that one process never holds two copies of the classes.
import cjs from './index.js';

export const {
  AuditSpanProcessor,
  DEFAULT_AUDITED_METHODS,
  DEFAULT_AUDIT_REJECT_ERROR_CODE,
  ENV_AUDIT_RECORD_ARGUMENTS,
  AppendOnlyFileSink,
  AuditLockError,
  canonicalJson,
  GENESIS_HASH,
  verifyAuditTrail,
  OtlpAuditSink,
  verifyCollectedAuditTrail,
} = cjs;
export type * from './index.js';
