/* `McpRecordingSampler`: MCP operations are recorded (for the JSON log and the audit) even when the trace is sampled out. */
import type { Attributes, Context, Link, SpanKind } from '@opentelemetry/api';
import { ATTR_MCP_METHOD_NAME } from './semconv';

/*
 * Structural copies of the SDK's `Sampler` types (identical in the 2.x and 3.x lines), so that this
 * package needs neither SDK package at run time.
 */
/** `SamplingDecision` of the OpenTelemetry SDK. */
export const SamplingDecisionValue = { NOT_RECORD: 0, RECORD: 1, RECORD_AND_SAMPLED: 2 } as const;

export interface SamplingResultLike {
  decision: number;
  attributes?: Readonly<Attributes>;
  traceState?: unknown;
}

export interface SamplerLike<R extends SamplingResultLike = SamplingResultLike> {
  shouldSample(
    context: Context,
    traceId: string,
    spanName: string,
    spanKind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): R;
  toString(): string;
}

/**
 * A sampler that keeps every MCP span at least *recording* when its delegate would drop it, so that
 * span processors — the JSON-line log bridge and the audit trail — see every MCP operation, while
 * exporters, which take only sampled spans, still see just what the delegate sampled. Spans other
 * than MCP's get the delegate's decision unchanged.
 *
 * ```js
 * new NodeSDK({ sampler: new McpRecordingSampler(new TraceIdRatioBasedSampler(0.01)), … })
 * ```
 *
 * An MCP span recorded but not sampled propagates `sampled=0`, so a parent-based sampler downstream
 * keeps following the delegate's decision; its non-MCP children are not recorded.
 *
 * Typed after its delegate, so that it is the SDK's `Sampler` wherever the delegate is one.
 */
export class McpRecordingSampler<R extends SamplingResultLike = SamplingResultLike> implements SamplerLike<R> {
  constructor(private readonly delegate: SamplerLike<R>) {}

  shouldSample(
    context: Context,
    traceId: string,
    spanName: string,
    spanKind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): R {
    const result = this.delegate.shouldSample(context, traceId, spanName, spanKind, attributes, links);
    if (result.decision !== SamplingDecisionValue.NOT_RECORD || typeof attributes?.[ATTR_MCP_METHOD_NAME] !== 'string') {
      return result;
    }
    return { ...result, decision: SamplingDecisionValue.RECORD as R['decision'] };
  }

  toString(): string {
    return `McpRecordingSampler{${this.delegate.toString()}}`;
  }
}
