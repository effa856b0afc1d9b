/* A user hook that throws never reaches the application, and is reported once, then counted, not once per call. */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { McpInstrumentation } from '../src';
import { connectScenario, mcpSdk } from './helpers/mcp';
import { setupOtel } from './helpers/otel';

setupOtel();
const instrumentation = new McpInstrumentation();
const mcp = mcpSdk();
after(() => instrumentation.disable());

describe('throwing hooks', () => {
  test('25 calls with throwing request and response hooks: each reported once, then counted at 10 (of some 50 throws); every call answered', async () => {
    const messages: Array<{ level: string; text: string }> = [];
    const record = (level: string) => (...args: unknown[]) => messages.push({ level, text: args.map(String).join(' ') });
    const logger: DiagLogger = { error: record('error'), warn: record('warn'), info: () => {}, debug: () => {}, verbose: () => {} };
    diag.setLogger(logger, DiagLogLevel.WARN);
    instrumentation.setConfig({
      requestHook: () => {
        throw new Error('request hook bug');
      },
      responseHook: () => {
        throw new Error('response hook bug');
      },
    });
    const session = await connectScenario();
    try {
      for (let i = 0; i < 25; i++) {
        const result = await mcp.callTool(session.client, { name: 'echo', arguments: { text: `call ${i}` } });
        assert.equal(result.isError, undefined);
      }
    } finally {
      instrumentation.setConfig({});
      diag.disable();
      await session.close();
    }
    const about = (hook: string) => messages.filter((m) => m.text.includes(hook));
    for (const hook of ['requestHook', 'responseHook']) {
      const reported = about(hook);
      assert.deepEqual(reported.map((m) => m.level), ['error', 'warn'], `${hook}: ${reported.map((m) => m.text).join(' | ')}`);
      assert.match(reported[0]!.text, /threw \(reported once; later throws are counted\)/);
      assert.match(reported[1]!.text, /has thrown 10 times/);
    }
  });
});
