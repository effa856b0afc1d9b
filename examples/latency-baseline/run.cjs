'use strict';
/*
 * The lesson's exercise: call each tool of server.cjs 10 times, and leave its log behind.
 *
 *   node examples/latency-baseline/run.cjs [LOG_FILE]      (default: latency-baseline.log)
 *
 * The server runs as a child process over stdio and writes its JSON-line log to LOG_FILE. Then:
 *
 *   jq … LOG_FILE                                  average latency per tool (see README.md)
 *   node build/src/cli/main.js stats LOG_FILE      count, errors, mean and percentiles per tool
 *                                                  (`npx mcp-otel stats` where the package is installed)
 */
const path = require('node:path');
const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StdioClientTransport } = require('@modelcontextprotocol/sdk/client/stdio.js');

const CALLS_PER_TOOL = 10;

async function main() {
  const logFile = path.resolve(process.argv[2] || 'latency-baseline.log');
  const client = new Client({ name: 'latency-baseline-runner', version: '1.0.0' });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [path.join(__dirname, 'server.cjs')],
      env: { ...process.env, MCP_LOG_FILE: logFile },
      stderr: 'inherit',
    }),
  );
  const { tools } = await client.listTools();
  for (const tool of tools) {
    for (let i = 0; i < CALLS_PER_TOOL; i++) await client.callTool({ name: tool.name, arguments: {} });
  }
  await client.close(); // the server flushes its log and exits
  process.stdout.write(`called ${tools.length} tools ${CALLS_PER_TOOL} times each; log: ${logFile}\n`);
}

main().catch((error) => {
  process.stderr.write(`latency-baseline: ${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
