/* The JSON-line log's span processor: one line per finished MCP operation, to stderr or a file. */
import type { Context } from '@opentelemetry/api';
import { summarizeMcpSpan, type ReadableSpanLike } from '../span-summary';
import { resolveDestination, type JsonLogDestination } from './destination';
import { logDiag } from './diag';
import { formatLogLine } from './line';
import type { JsonLogRotation } from './rotation';
import { LineSink } from './sink';

/** Options of {@link JsonLogSpanProcessor}. */
export interface JsonLogOptions {
  /**
   * Where the lines go: `'stderr'` (also `process.stderr` or `2`), or the path of a file, appended to
   * and created when missing. Standard output (`'stdout'`, `process.stdout`, `1`, `/dev/stdout`, or
   * any path to the pipe or file standard output writes to) is refused with a
   * {@link StdoutDestinationError}: a stdio MCP server speaks JSON-RPC there.
   * @default 'stderr'
   */
  destination?: JsonLogDestination;

  /**
   * Rotate the file destination by size and/or time (with `pino-roll`). The files are then named
   * `<name>.<n>.<ext>` next to the configured path (`ops.log` → `ops.1.log`, `ops.2.log`, …).
   * Give the log a directory of its own: never the audit trail's.
   * @default undefined (one file, never rotated)
   */
  rotation?: JsonLogRotation;

  /**
   * Create the file destination's directory when it is missing.
   * @default false
   */
  mkdir?: boolean;

  /**
   * The most bytes of lines held in memory while the destination is slow or failing; lines beyond
   * that are dropped (and reported once through `diag`).
   * @default 67108864 (64 MiB)
   */
  maxBufferBytes?: number;

  /**
   * The longest `forceFlush()` and `shutdown()` wait for the destination (a pipe nobody reads never
   * drains).
   * @default 30000
   */
  timeoutMillis?: number;
}

const DEFAULT_MAX_BUFFER_BYTES = 64 * 1024 * 1024;
const DEFAULT_TIMEOUT_MILLIS = 30_000;

function positive(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
}

/**
 * A span processor that writes one JSON line per finished MCP operation (a span of this package),
 * to standard error or a file: the structured server log of the MCP lesson, built from the spans
 * the instrumentation already makes. Other spans are ignored.
 *
 * Spans reach span processors when they are *recording*, sampled or not, so the log sees every
 * operation when the tracer provider's sampler is wrapped in {@link McpRecordingSampler}:
 *
 * ```js
 * new NodeSDK({
 *   sampler: new McpRecordingSampler(new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.01) })),
 *   spanProcessors: [new BatchSpanProcessor(exporter), new JsonLogSpanProcessor()],
 *   instrumentations: [new McpInstrumentation()],
 * });
 * ```
 *
 * Structurally a `SpanProcessor` of both OpenTelemetry SDK lines (2.x and 3.x); it loads neither.
 */
export class JsonLogSpanProcessor {
  private readonly sink: LineSink;
  private reportedFormatError = false;

  /**
   * @throws {StdoutDestinationError} when `destination` is standard output
   * @throws {TypeError} when `destination` or `rotation` is invalid
   */
  constructor(options: JsonLogOptions = {}) {
    const destination = resolveDestination(options.destination);
    if (options.rotation !== undefined && destination.kind !== 'file') {
      throw new TypeError('opentelemetry-instrumentation-mcp: log rotation needs a file destination');
    }
    this.sink = new LineSink(destination, {
      rotation: options.rotation,
      mkdir: options.mkdir === true,
      maxBufferBytes: positive(options.maxBufferBytes, DEFAULT_MAX_BUFFER_BYTES),
      timeoutMillis: positive(options.timeoutMillis, DEFAULT_TIMEOUT_MILLIS),
    });
  }

  /** Lines dropped so far because the destination could not be opened or did not keep up. */
  get droppedLines(): number {
    return this.sink.dropped;
  }

  onStart(_span: unknown, _parentContext: Context): void {}

  onEnd(span: ReadableSpanLike): void {
    try {
      const summary = summarizeMcpSpan(span);
      if (summary === undefined) return;
      this.sink.write(formatLogLine(summary, span.attributes));
    } catch (error) {
      if (!this.reportedFormatError) {
        this.reportedFormatError = true;
        logDiag.error('could not log an MCP span', error);
      }
    }
  }

  /** Resolves when every line so far is written (or the destination failed, or `timeoutMillis` passed). */
  forceFlush(): Promise<void> {
    return this.sink.flush();
  }

  /** Flushes and closes the destination; later spans are not logged. */
  shutdown(): Promise<void> {
    return this.sink.close();
  }
}
