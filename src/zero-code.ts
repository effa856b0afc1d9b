import { McpInstrumentation } from './instrumentation';

/*
 * The zero-code start: the OpenTelemetry Node SDK with McpInstrumentation and the exporters the
 * standard `OTEL_*` environment variables choose. Nothing here may stop the application: a missing
 * SDK or a failing start is reported once on stderr (never stdout: stdio MCP servers speak JSON-RPC
 * there) and the application runs on untraced.
 */

const PREFIX = 'opentelemetry-instrumentation-mcp/register:';
const SHUTDOWN_TIMEOUT_MS = 5000;

interface NodeSdkLike {
  start(): void;
  shutdown(): Promise<void>;
}

function report(message: string, error?: unknown): void {
  const detail = error instanceof Error ? `: ${error.message}` : '';
  process.stderr.write(`${PREFIX} ${message}${detail}\n`);
}

let started: NodeSdkLike | undefined;

/** Starts the Node SDK once per process; returns it, or `undefined` when it could not start. */
export function startZeroCode(): NodeSdkLike | undefined {
  if (started !== undefined) return started;
  let NodeSDK: new (config: object) => NodeSdkLike;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    ({ NodeSDK } = require('@opentelemetry/sdk-node') as { NodeSDK: typeof NodeSDK });
  } catch (error) {
    report('@opentelemetry/sdk-node is not installed (npm install @opentelemetry/sdk-node); MCP telemetry is off', error);
    return undefined;
  }
  try {
    const sdk = new NodeSDK({ instrumentations: [new McpInstrumentation()] });
    sdk.start();
    started = sdk;
  } catch (error) {
    report('the OpenTelemetry SDK failed to start; MCP telemetry is off', error);
    return undefined;
  }
  installShutdown(started);
  return started;
}

function installShutdown(sdk: NodeSdkLike): void {
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    if (stopping === undefined) {
      stopping = Promise.race([
        sdk.shutdown().catch((error: unknown) => report('shutdown failed', error)),
        new Promise<void>((resolve) => setTimeout(resolve, SHUTDOWN_TIMEOUT_MS).unref()),
      ]);
    }
    return stopping;
  };
  // Normal end: the event loop drained. Flushing keeps it alive a little longer, once.
  process.once('beforeExit', () => {
    void stop();
  });
  // Signals: flush, then let the signal do what it would have done without us, unless the
  // application has its own handler (then exiting is the application's decision).
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void stop().finally(() => {
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      });
    });
  }
}
