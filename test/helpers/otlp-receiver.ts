/*
 * A loopback OTLP/HTTP receiver for tests: it accepts the JSON encoding (`OTEL_EXPORTER_OTLP_PROTOCOL=
 * http/json`) of traces, metrics and logs on 127.0.0.1 and an ephemeral port, keeps every request body,
 * and flattens them into spans and metric points a test can assert on. `status` lets a test play an
 * endpoint that is not a receiver at all.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { closeServer } from './net';
import { waitFor } from './otel';

/** OTLP span kinds (the JSON encoding uses the protobuf enum numbers). */
const OTLP_KIND: Record<number, string> = { 1: 'INTERNAL', 2: 'SERVER', 3: 'CLIENT', 4: 'PRODUCER', 5: 'CONSUMER' };

export interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
}

export interface ReceivedSpan {
  name: string;
  /** `SERVER`, `CLIENT`, `INTERNAL`… */
  kind: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  attributes: Record<string, unknown>;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  statusCode: number;
  statusMessage: string | undefined;
  links: Array<{ traceId: string; spanId: string }>;
  scope: string;
  scopeVersion: string | undefined;
  resource: Record<string, unknown>;
}

/** One data point of one metric in one export. */
export interface ReceivedMetricPoint {
  metric: string;
  unit: string | undefined;
  /** `histogram`, `sum`, `gauge`… (the OTLP data field). */
  type: string;
  attributes: Record<string, unknown>;
  /** Histograms: the number of measurements. */
  count: number | undefined;
  /** Histograms: the sum; sums and gauges: the value. */
  value: number | undefined;
  /** Histograms: the explicit bucket boundaries. */
  bounds: number[] | undefined;
  scope: string;
  resource: Record<string, unknown>;
  /** Which export (body) it came in, in arrival order of the metric bodies. */
  exportIndex: number;
}

export interface OtlpReceiver {
  /** `http://127.0.0.1:<port>`: the value of `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  endpoint: string;
  /** Parsed JSON bodies of POST /v1/traces, /v1/metrics and /v1/logs, in arrival order. */
  traceBodies: unknown[];
  metricBodies: unknown[];
  logBodies: unknown[];
  /** Requests to any other path, as `METHOD /path` (a receiver answering 200 only). */
  otherPaths: string[];
  /** Requests answered with a status other than 200, by path. */
  rejected: Map<string, number>;
  spans(): ReceivedSpan[];
  /** The data points of every export of `metric` (all metrics without a name). */
  metricPoints(metric?: string): ReceivedMetricPoint[];
  /** Polls until `predicate` holds; fails after `timeoutMs` with `what`. */
  waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void>;
  close(): Promise<void>;
}

function attributeValue(value: OtlpAttribute['value'] | undefined): unknown {
  if (value === undefined) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  return value.boolValue;
}

export function attributeMap(attributes: OtlpAttribute[] | undefined): Record<string, unknown> {
  const map: Record<string, unknown> = {};
  for (const { key, value } of attributes ?? []) map[key] = attributeValue(value);
  return map;
}

type Json = Record<string, unknown>;

function list(value: unknown): Json[] {
  return Array.isArray(value) ? (value as Json[]) : [];
}

function hexId(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Flattens OTLP/JSON `ExportTraceServiceRequest` bodies into spans. */
export function spansOf(bodies: unknown[]): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const body of bodies as Json[]) {
    for (const rs of list(body.resourceSpans)) {
      const resource = attributeMap((rs.resource as { attributes?: OtlpAttribute[] } | undefined)?.attributes);
      for (const ss of list(rs.scopeSpans)) {
        const scope = (ss.scope ?? {}) as { name?: string; version?: string };
        for (const s of list(ss.spans)) {
          const status = (s.status ?? {}) as { code?: number; message?: string };
          spans.push({
            name: s.name as string,
            kind: OTLP_KIND[s.kind as number] ?? String(s.kind),
            traceId: s.traceId as string,
            spanId: s.spanId as string,
            parentSpanId: hexId(s.parentSpanId),
            attributes: attributeMap(s.attributes as OtlpAttribute[] | undefined),
            statusCode: typeof status.code === 'number' ? status.code : 0,
            statusMessage: typeof status.message === 'string' && status.message !== '' ? status.message : undefined,
            links: list(s.links).map((l) => ({ traceId: l.traceId as string, spanId: l.spanId as string })),
            scope: scope.name ?? '',
            scopeVersion: scope.version,
            resource,
          });
        }
      }
    }
  }
  return spans;
}

function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value !== '') return Number(value);
  return undefined;
}

/** Flattens OTLP/JSON `ExportMetricsServiceRequest` bodies into data points. */
export function metricPointsOf(bodies: unknown[]): ReceivedMetricPoint[] {
  const points: ReceivedMetricPoint[] = [];
  (bodies as Json[]).forEach((body, exportIndex) => {
    for (const rm of list(body.resourceMetrics)) {
      const resource = attributeMap((rm.resource as { attributes?: OtlpAttribute[] } | undefined)?.attributes);
      for (const sm of list(rm.scopeMetrics)) {
        const scope = ((sm.scope ?? {}) as { name?: string }).name ?? '';
        for (const m of list(sm.metrics)) {
          for (const type of ['histogram', 'sum', 'gauge', 'exponentialHistogram', 'summary']) {
            const data = m[type] as { dataPoints?: unknown } | undefined;
            if (data === undefined) continue;
            for (const p of list(data.dataPoints)) {
              points.push({
                metric: m.name as string,
                unit: typeof m.unit === 'string' ? m.unit : undefined,
                type,
                attributes: attributeMap(p.attributes as OtlpAttribute[] | undefined),
                count: numberOf(p.count),
                value: type === 'histogram' ? numberOf(p.sum) : (numberOf(p.asDouble) ?? numberOf(p.asInt)),
                bounds: Array.isArray(p.explicitBounds) ? (p.explicitBounds as unknown[]).map(Number) : undefined,
                scope,
                resource,
                exportIndex,
              });
            }
          }
        }
      }
    }
  });
  return points;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const PATHS: Record<string, 'traceBodies' | 'metricBodies' | 'logBodies'> = {
  '/v1/traces': 'traceBodies',
  '/v1/metrics': 'metricBodies',
  '/v1/logs': 'logBodies',
};

/** Starts a receiver on 127.0.0.1 and an ephemeral port. Every request gets `status` (200: a receiver). */
export async function startOtlpReceiver(options: { status?: number } = {}): Promise<OtlpReceiver> {
  const status = options.status ?? 200;
  const receiver = {
    traceBodies: [] as unknown[],
    metricBodies: [] as unknown[],
    logBodies: [] as unknown[],
    otherPaths: [] as string[],
    rejected: new Map<string, number>(),
  };
  const server: Server = createServer((req, res) => {
    readBody(req).then(
      (raw) => {
        const path = (req.url ?? '').split('?')[0] ?? '';
        const target = PATHS[path];
        if (status !== 200) {
          receiver.rejected.set(path, (receiver.rejected.get(path) ?? 0) + 1);
          res.writeHead(status, { 'content-type': 'text/plain' });
          res.end('not an OTLP receiver');
          return;
        }
        if (req.method !== 'POST' || target === undefined) {
          receiver.otherPaths.push(`${req.method ?? ''} ${req.url ?? ''}`);
          res.writeHead(404, { 'content-type': 'text/plain' });
          res.end('unknown path');
          return;
        }
        let body: unknown;
        try {
          const bytes = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
          body = JSON.parse(bytes.toString('utf8'));
        } catch {
          body = { unparsable: raw.toString('base64') };
        }
        receiver[target].push(body);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      },
      () => {
        res.writeHead(400);
        res.end();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    ...receiver,
    spans: () => spansOf(receiver.traceBodies),
    metricPoints: (metric?: string) => metricPointsOf(receiver.metricBodies).filter((p) => metric === undefined || p.metric === metric),
    waitFor,
    close: () => closeServer(server),
  };
}
