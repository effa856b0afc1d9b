/* Whether an OpenTelemetry SDK registered a global tracer provider (so that spans would be recorded). */
import { ProxyTracerProvider, trace } from '@opentelemetry/api';

/** The tracer provider the API's global proxy delegates to while no SDK registered one. */
const NOOP_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate();

/**
 * Whether some SDK registered a global tracer provider. A provider that is not this API copy's proxy
 * (another copy of the API, a custom provider) counts as registered.
 */
export function globalTracerProviderRegistered(): boolean {
  const provider = trace.getTracerProvider() as { getDelegate?: () => unknown };
  return typeof provider.getDelegate !== 'function' || provider.getDelegate() !== NOOP_TRACER_PROVIDER;
}
