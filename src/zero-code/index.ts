/*
 * The zero-code start behind `opentelemetry-instrumentation-mcp/register`: the OpenTelemetry Node SDK
 * with McpInstrumentation, the exporters and sampler the standard `OTEL_*` variables choose, and this
 * package's span processors — the JSON-line log (`OTEL_INSTRUMENTATION_MCP_LOG`) and the audit trail
 * (`OTEL_INSTRUMENTATION_MCP_AUDIT_DIR`).
 *
 * - NodeSDK ignores `OTEL_TRACES_EXPORTER` as soon as it is given `spanProcessors` (both the 0.2xx and
 *   the 0.3xx line), and its own env helpers are not exported; so the exporters the variable names are
 *   built here, the way NodeSDK builds them, from the exporter packages NodeSDK itself depends on.
 * - With the log or the audit on, the sampler `OTEL_TRACES_SAMPLER` names is wrapped in
 *   McpRecordingSampler, so that they see every MCP operation whatever is sampled.
 * - One SDK per process: when another SDK already registered a tracer provider (e.g.
 *   `@opentelemetry/auto-instrumentations-node/register` loaded first), McpInstrumentation joins it
 *   instead; a NodeSDK started after this one (loaded second) joins this one with its instrumentations
 *   instead of building providers and exporters that could never register.
 * - The main thread only: Node runs `--require` preloads again in its module-hooks thread and in
 *   worker threads.
 * - Telemetry never keeps the process alive (./telemetry-scope); at exit it gets a bounded flush
 *   (./shutdown).
 * - Nothing here may stop the application, and nothing goes to stdout (stdio MCP servers speak JSON-RPC
 *   there): each problem is reported once on stderr and the application runs on, untraced if need be.
 */

import { isMainThread } from 'node:worker_threads';
import { globalTracerProviderRegistered } from '../global-tracer';
import { McpInstrumentation } from '../instrumentation';
import { McpRecordingSampler } from '../sampler';
import { checkEndpoints, routeDiagToStderr, warnConsoleExporters, withoutLogLevelEnv } from './diagnostics';
import { envFlag } from './env';
import { guardNodeSdk, joinExistingSdk, NodeSdkGuard } from './one-sdk';
import { createAuditProcessor, createLogProcessor, logSetting } from './own-processors';
import { report } from './report';
import { loadNodeSdk, loadSdkTrace, type NodeSdkLike, type SpanProcessorLike } from './sdk-packages';
import { installShutdown } from './shutdown';
import { enableTelemetryScope, runAsTelemetry } from './telemetry-scope';
import { envSampler, envSpanProcessors } from './trace-pipeline';

export { ENV_AUDIT_DIR, ENV_LOG } from './own-processors';

/** Shared by every copy of this package a process may load (say, through `--require` and `--import`). */
const STATE_KEY = Symbol.for('opentelemetry-instrumentation-mcp.zero-code');

interface ZeroCodeState {
  /** The NodeSDK this preload started, if it started one. */
  sdk: NodeSdkLike | undefined;
  /** Whether the preload ran (started an SDK, joined another, or gave up). */
  done: boolean;
}

function state(): ZeroCodeState {
  const holder = globalThis as unknown as Record<symbol, ZeroCodeState | undefined>;
  return (holder[STATE_KEY] ??= { sdk: undefined, done: false });
}

/**
 * Starts the Node SDK once per process — or joins the SDK another preload started — and returns the
 * SDK it started, or `undefined` when it started none.
 */
export function startZeroCode(): NodeSdkLike | undefined {
  // Node runs `--require` preloads again in its module-hooks thread (once any loader hook is
  // registered, as `--import …/register` does) and in worker threads: a second SDK there would
  // export a second, empty stream of telemetry, open the log and start an audit chain of its own.
  if (!isMainThread) return undefined;
  const shared = state();
  if (shared.done) return shared.sdk;
  shared.done = true;
  if (envFlag('OTEL_SDK_DISABLED')) return undefined;
  try {
    if (globalTracerProviderRegistered()) {
      joinExistingSdk();
      return undefined;
    }
  } catch (error) {
    report('join', 'could not add McpInstrumentation to the SDK already started; MCP telemetry is off', error);
    return undefined;
  }
  routeDiagToStderr();
  checkEndpoints();
  warnConsoleExporters();

  const guard = new NodeSdkGuard(() => shared.sdk);
  const loaded = loadNodeSdk();
  if (loaded === undefined) {
    guard.disable();
    return undefined;
  }
  guardNodeSdk(loaded.NodeSDK, () => shared.sdk);

  let sdk: NodeSdkLike;
  try {
    const sdkTrace = loadSdkTrace(loaded.sdkRequire);
    const own = [createLogProcessor(logSetting()), createAuditProcessor()].filter((p): p is SpanProcessorLike => p !== undefined);
    const sampler = envSampler(sdkTrace);
    const config: Record<string, unknown> = { instrumentations: [new McpInstrumentation()] };
    // The log and the audit must see every MCP operation: keep MCP spans recording whatever is sampled.
    if (own.length > 0) config.sampler = new McpRecordingSampler(sampler ?? new sdkTrace.ParentBasedSampler({ root: new sdkTrace.AlwaysOnSampler() }));
    else if (sampler !== undefined) config.sampler = sampler;
    // The exporters, the readers' periodic export and what the SDK starts never hold the process open.
    enableTelemetryScope();
    sdk = runAsTelemetry(() => {
      config.spanProcessors = [...envSpanProcessors(loaded.sdkRequire, sdkTrace), ...own];
      const created = withoutLogLevelEnv(() => new loaded.NodeSDK(config));
      shared.sdk = created;
      created.start();
      return created;
    });
  } catch (error) {
    shared.sdk = undefined;
    report('start', 'the OpenTelemetry SDK failed to start; MCP telemetry is off', error);
    return undefined;
  }
  installShutdown(sdk);
  return sdk;
}
