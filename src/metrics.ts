import { ValueType, type Attributes, type Histogram, type Meter } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_NETWORK_PROTOCOL_NAME,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_NETWORK_TRANSPORT,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
} from '@opentelemetry/semantic-conventions';
import type { ConnectionState } from './connection';
import {
  ATTR_MCP_PROTOCOL_VERSION,
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
  if (conn.protocolVersion !== undefined) attributes[ATTR_MCP_PROTOCOL_VERSION] = conn.protocolVersion;
  if (conn.networkTransport !== undefined) attributes[ATTR_NETWORK_TRANSPORT] = conn.networkTransport;
  if (conn.networkProtocolName !== undefined) attributes[ATTR_NETWORK_PROTOCOL_NAME] = conn.networkProtocolName;
  if (conn.networkProtocolVersion !== undefined) attributes[ATTR_NETWORK_PROTOCOL_VERSION] = conn.networkProtocolVersion;
  let histogram = instruments.serverSessionDuration;
  if (conn.role === 'client') {
    histogram = instruments.clientSessionDuration;
    if (conn.serverAddress !== undefined) {
      attributes[ATTR_SERVER_ADDRESS] = conn.serverAddress;
      if (conn.serverPort !== undefined) attributes[ATTR_SERVER_PORT] = conn.serverPort;
    }
  }
  histogram.record((performance.now() - conn.openedAt) / 1000, attributes);
}
