/* One SDK per process: a NodeSDK started after the preload joins it; the preload joins an SDK started before it. */
import { InstrumentationBase, InstrumentationNodeModuleDefinition, registerInstrumentations } from '@opentelemetry/instrumentation';
import { globalTracerProviderRegistered } from '../global-tracer';
import { McpInstrumentation } from '../instrumentation';
import { PACKAGE_NAME, PACKAGE_VERSION } from '../version';
import { routeDiagToStderr } from './diagnostics';
import { envString } from './env';
import { ENV_AUDIT_DIR, ENV_LOG, logSetting } from './own-processors';
import { report } from './report';
import type { NodeSdkLike } from './sdk-packages';

interface NodeSdkInstance {
  _disabled?: boolean;
  _instrumentations?: unknown;
}

const GUARDED = Symbol('opentelemetry-instrumentation-mcp.guarded-start');

/**
 * Watches every copy of `@opentelemetry/sdk-node` loaded after the preload (through `require` or
 * `import`): a NodeSDK started while the preload's SDK owns the global providers — for instance by
 * `@opentelemetry/auto-instrumentations-node/register` loaded after this one — could register none
 * of its providers (the API refuses a second registration) and would run exporters nobody feeds. Its
 * `start()` then registers its instrumentations with the preload's providers, and nothing else.
 */
export class NodeSdkGuard extends InstrumentationBase {
  constructor(private readonly ownSdk: () => NodeSdkLike | undefined) {
    super(`${PACKAGE_NAME}/register`, PACKAGE_VERSION, {});
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    return [
      new InstrumentationNodeModuleDefinition('@opentelemetry/sdk-node', ['>=0.200.0 <0.400.0'], (exports: unknown) => {
        guardNodeSdk((exports as { NodeSDK?: unknown } | undefined)?.NodeSDK, this.ownSdk);
        return exports;
      }),
    ];
  }
}

export function guardNodeSdk(NodeSDK: unknown, ownSdk: () => NodeSdkLike | undefined): void {
  try {
    const proto = (NodeSDK as { prototype?: Record<string | symbol, unknown> } | undefined)?.prototype;
    if (proto === undefined || typeof proto.start !== 'function' || proto[GUARDED] === true) return;
    const original = proto.start as (this: unknown, ...args: unknown[]) => unknown;
    proto.start = function start(this: NodeSdkInstance, ...args: unknown[]): unknown {
      const own = ownSdk();
      if (own === undefined || this === own || this._disabled === true || !globalTracerProviderRegistered()) {
        return original.apply(this, args);
      }
      try {
        const instrumentations = Array.isArray(this._instrumentations) ? (this._instrumentations.flat() as never[]) : [];
        registerInstrumentations({ instrumentations });
        routeDiagToStderr(); // its constructor may have installed a stdout logger
        report(
          'second-sdk',
          'another OpenTelemetry NodeSDK was started after this preload: its instrumentations report through the ' +
            "preload's SDK; its own providers and exporters are not started",
        );
      } catch (error) {
        report('second-sdk', 'could not join a second NodeSDK to the preload SDK', error);
      }
      return undefined;
    };
    Object.defineProperty(proto, GUARDED, { value: true });
  } catch (error) {
    report('guard', 'could not watch for a second NodeSDK', error);
  }
}

/** Another SDK owns the providers: McpInstrumentation joins it; this package's processors cannot. */
export function joinExistingSdk(): void {
  routeDiagToStderr();
  registerInstrumentations({ instrumentations: [new McpInstrumentation()] });
  const wanted = [
    envString(ENV_LOG) !== undefined && logSetting().kind !== 'off' ? ENV_LOG : undefined,
    envString(ENV_AUDIT_DIR) !== undefined ? ENV_AUDIT_DIR : undefined,
  ].filter((name): name is string => name !== undefined);
  if (wanted.length > 0) {
    const one = wanted.length === 1;
    report(
      'joined',
      `another OpenTelemetry SDK was started before this preload; McpInstrumentation reports through it. ${wanted.join(' and ')} ` +
        `${one ? 'is' : 'are'} ignored: ${one ? 'it needs' : 'they need'} the preload's own SDK (load ${PACKAGE_NAME}/register first)`,
    );
  }
}
