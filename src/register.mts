/*
 * `node --import opentelemetry-instrumentation-mcp/register app.mjs`: registers the ESM loader hook
 * that lets ES modules be patched, then starts OpenTelemetry with McpInstrumentation, before the
 * application's own imports run.
 */
import { register } from 'node:module';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

try {
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
} catch (error) {
  const { report } = require('./zero-code/report.js') as typeof import('./zero-code/report.js');
  report('esm-hook', 'could not register the ESM loader hook; ES modules will not be instrumented', error);
}

require('./register.js');
