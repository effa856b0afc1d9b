import { McpInstrumentation } from './instrumentation';

/*
 * The zero-code start: the OpenTelemetry Node SDK with McpInstrumentation and the exporters the
 * standard `OTEL_*` environment variables choose. Nothing here may stop the application: a missing
 * SDK or a failing start is reported once on stderr (never stdout: stdio MCP servers speak JSON-RPC
 * there) and the application runs on untraced.
 */

const PREFIX = 'opentelemetry-instrumentation-mcp/register:';
/** How long exit may wait for telemetry to flush. */
const SHUTDOWN_TIMEOUT_MS = 3000;

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
  let stopping: Promise<boolean> | undefined;
  /** Flushes and shuts down; resolves `true` when done, `false` when the time limit came first. */
  const stop = (): Promise<boolean> => {
    if (stopping === undefined) {
      stopping = Promise.race([
        sdk.shutdown().then(
          () => true,
          (error: unknown) => {
            report('shutdown failed', error);
            return true;
          },
        ),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), SHUTDOWN_TIMEOUT_MS).unref()),
      ]);
    }
    return stopping;
  };
  // Normal end: the event loop drained, the application is done. Flushing keeps the process alive a
  // little longer, once, and never longer than the limit: an exporter still retrying an unreachable
  // endpoint then is cut off, and the process ends with the application's exit code.
  process.once('beforeExit', () => {
    void stop().then((done) => {
      if (!done) {
        report(`telemetry not flushed within ${SHUTDOWN_TIMEOUT_MS} ms; exiting`);
        process.exit();
      }
    });
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
