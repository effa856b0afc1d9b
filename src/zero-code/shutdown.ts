/*
 * The flush at exit, bounded: when the application is done (its event loop drained, or a signal
 * ends it), the SDK gets at most SHUTDOWN_TIMEOUT_MS to flush and shut down; then the process ends
 * as it would have without us, with the application's exit code or signal.
 */
import { report } from './report';
import type { NodeSdkLike } from './sdk-packages';
import { runAsTelemetry } from './telemetry-scope';

/** How long exit may wait for telemetry to flush. */
export const SHUTDOWN_TIMEOUT_MS = 3000;

export function installShutdown(sdk: NodeSdkLike): void {
  let stopping: Promise<boolean> | undefined;
  /** Flushes and shuts down; resolves `true` when done, `false` when the time limit came first. */
  const stop = (): Promise<boolean> =>
    (stopping ??= new Promise<boolean>((resolve) => {
      // Not unref'd: the exports are (./telemetry-scope), so this timer is what keeps the process
      // alive while they flush — and no longer than the limit.
      const deadline = setTimeout(() => resolve(false), SHUTDOWN_TIMEOUT_MS);
      const done = (): void => {
        clearTimeout(deadline);
        resolve(true);
      };
      try {
        runAsTelemetry(() => sdk.shutdown()).then(done, (error: unknown) => {
          report('shutdown', 'shutdown failed', error);
          done();
        });
      } catch (error) {
        report('shutdown', 'shutdown failed', error);
        done();
      }
    }));
  // The event loop drained: the application is done (a stdio server whose host closed standard
  // input gets here too, our exporters holding nothing). Flush once; past the limit, an exporter
  // still retrying an unreachable collector is cut off and the process ends with the application's
  // exit code.
  process.once('beforeExit', () => {
    void stop().then((done) => {
      if (!done) {
        report('flush-timeout', `telemetry not flushed within ${SHUTDOWN_TIMEOUT_MS} ms; exiting`);
        process.exit();
      }
    });
  });
  // Signals: flush, then let the signal do what it would have done without us, unless the
  // application has its own handler (then exiting is the application's decision; when it closes
  // what it holds, `beforeExit` comes).
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void stop().then((done) => {
        if (!done) report('flush-timeout', `telemetry not flushed within ${SHUTDOWN_TIMEOUT_MS} ms; exiting`);
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      });
    });
  }
}
