/* The audit trail's component logger: every diagnostic of the audit goes through it, under one namespace. */
import { diag } from '@opentelemetry/api';

export const auditDiag = diag.createComponentLogger({ namespace: 'opentelemetry-instrumentation-mcp/audit' });
