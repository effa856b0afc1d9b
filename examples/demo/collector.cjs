'use strict';
// A tiny OTLP/HTTP (JSON) receiver on loopback: the demo's stand-in for a real backend.
const http = require('node:http');

function attributesOf(list) {
  const out = {};
  for (const { key, value } of list ?? []) {
    out[key] = value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : undefined) ?? value.doubleValue ?? value.boolValue;
  }
  return out;
}

function startCollector() {
  const spans = [];
  const metrics = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      try {
        const payload = JSON.parse(body);
        if (req.url === '/v1/traces') {
          for (const rs of payload.resourceSpans ?? []) {
            const service = attributesOf(rs.resource?.attributes)['service.name'];
            for (const ss of rs.scopeSpans ?? []) {
              for (const s of ss.spans ?? []) {
                spans.push({
                  service,
                  scope: ss.scope?.name,
                  name: s.name,
                  kind: s.kind,
                  traceId: s.traceId,
                  spanId: s.spanId,
                  parentSpanId: s.parentSpanId || undefined,
                  start: Number(BigInt(s.startTimeUnixNano) / 1000n) / 1000,
                  end: Number(BigInt(s.endTimeUnixNano) / 1000n) / 1000,
                  attributes: attributesOf(s.attributes),
                  status: s.status ?? {},
                });
              }
            }
          }
        } else if (req.url === '/v1/metrics') {
          for (const rm of payload.resourceMetrics ?? []) {
            const service = attributesOf(rm.resource?.attributes)['service.name'];
            for (const sm of rm.scopeMetrics ?? []) {
              for (const m of sm.metrics ?? []) metrics.push({ service, ...m });
            }
          }
        }
      } catch {
        // not JSON: ignore
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({ url: `http://127.0.0.1:${server.address().port}`, spans, metrics, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

module.exports = { startCollector };
