'use strict';
/*
 * The stdio MCP server child of a benchmark worker: the same configuration as its parent (BENCH_SPEC),
 * set up before the SDK is loaded. It never writes to stdout (JSON-RPC flows there); when its stdin
 * ends it writes what it saw to BENCH_SERVER_REPORT and exits.
 */
const fs = require('node:fs');
const { CONFIGS } = require('./configs.cjs');
const { registerTools, stats } = require('./workload.cjs');

const spec = JSON.parse(process.env.BENCH_SPEC);
const hooks = CONFIGS[spec.config].setup({ workDir: spec.workDir, sinkUrl: spec.sinkUrl, role: 'server' });
const { McpServer } = require('@modelcontextprotocol/sdk/server/mcp.js');
const { StdioServerTransport } = require('@modelcontextprotocol/sdk/server/stdio.js');

let server = new McpServer({ name: 'bench-server', version: '1.0.0' });
server = hooks.onServer(server) || server;
registerTools(server);

let finished = false;
async function finish() {
  if (finished) return;
  finished = true;
  let described = {};
  try {
    described = await hooks.describe();
  } catch (error) {
    described = { error: String(error) };
  }
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
  fs.writeFileSync(
    process.env.BENCH_SERVER_REPORT,
    JSON.stringify({ stats, described, peakRssKb: hwm ? Number(hwm[1]) : null }),
  );
  try {
    await hooks.shutdown();
  } catch {}
  process.exit(0);
}
process.stdin.on('end', () => void finish());
process.on('SIGTERM', () => void finish());
server.connect(new StdioServerTransport()).catch((error) => {
  process.stderr.write(`bench server: ${error}\n`);
  process.exit(1);
});
