/* The JSON-line log's diagnostics: through `diag`, under the log's own component name. */
import { diag } from '@opentelemetry/api';

export const logDiag = diag.createComponentLogger({ namespace: 'opentelemetry-instrumentation-mcp/json-log' });
