/* The four MCP duration histograms of the semantic conventions, and the session-duration point. */
import { ValueType, type Attributes, type Histogram, type Meter } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';
import { addConnectionAttributes, CONN_SERVER, METRIC_CONNECTION } from './attributes';
import type { ConnectionState } from './connection';
import {
  MCP_DURATION_BUCKETS,
  METRIC_MCP_CLIENT_OPERATION_DURATION,
  METRIC_MCP_CLIENT_SESSION_DURATION,
  METRIC_MCP_SERVER_OPERATION_DURATION,
  METRIC_MCP_SERVER_SESSION_DURATION,
} from './semconv';

/** The four MCP duration histograms of the semantic conventions. */
export interface McpInstruments {
  readonly serverOperationDuration: Histogram;
  readonly clientOperationDuration: Histogram;
  readonly serverSessionDuration: Histogram;
  readonly clientSessionDuration: Histogram;
}

function histogram(meter: Meter, name: string, description: string): Histogram {
  return meter.createHistogram(name, {
    description,
    unit: 's',
    valueType: ValueType.DOUBLE,
    advice: { explicitBucketBoundaries: [...MCP_DURATION_BUCKETS] },
  });
}

export function createInstruments(meter: Meter): McpInstruments {
  return {
    serverOperationDuration: histogram(
      meter,
      METRIC_MCP_SERVER_OPERATION_DURATION,
      'Duration of MCP requests and notifications received, from receipt to response.',
    ),
    clientOperationDuration: histogram(
      meter,
      METRIC_MCP_CLIENT_OPERATION_DURATION,
      'Duration of MCP requests and notifications sent, from sending to the response.',
    ),
    serverSessionDuration: histogram(meter, METRIC_MCP_SERVER_SESSION_DURATION, 'Duration of MCP sessions, server side.'),
    clientSessionDuration: histogram(meter, METRIC_MCP_CLIENT_SESSION_DURATION, 'Duration of MCP sessions, client side.'),
  };
}

/** Records the duration of the session `conn` belonged to, now that it closed. */
export function recordSessionDuration(instruments: McpInstruments | undefined, conn: ConnectionState): void {
  if (instruments === undefined || conn.role === undefined) return;
  const attributes: Attributes = {};
  if (conn.lastErrorType !== undefined) attributes[ATTR_ERROR_TYPE] = conn.lastErrorType;
  addConnectionAttributes(attributes, conn, conn.role === 'client' ? METRIC_CONNECTION | CONN_SERVER : METRIC_CONNECTION);
  const histogram = conn.role === 'client' ? instruments.clientSessionDuration : instruments.serverSessionDuration;
  histogram.record((performance.now() - conn.openedAt) / 1000, attributes);
}
