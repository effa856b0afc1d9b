/*
 * `node --require opentelemetry-instrumentation-mcp/register app.js`: starts OpenTelemetry with
 * McpInstrumentation before the application loads the MCP SDK.
 */
import { startZeroCode } from './zero-code';

startZeroCode();
