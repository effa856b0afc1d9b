'use strict';
// A stand-in for the HTTP API the MCP tool calls: GET /forecast?city=<name> answers JSON, 404 for a
// city it does not know. It keeps the requests it received (path and `traceparent` header), so the
// example's test can check that the trace context reached it.
//
//   node examples/http-tool-api/api.cjs        # listens on 127.0.0.1:$API_PORT (default 3100)
const http = require('node:http');

const FORECASTS = { paris: 'sunny, 21°C', oslo: 'snow, -3°C', lima: 'cloudy, 18°C' };

function startWeatherApi({ port = 0, host = '127.0.0.1' } = {}) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://api.invalid');
    requests.push({ method: req.method, path: url.pathname, city: url.searchParams.get('city'), traceparent: req.headers.traceparent });
    const city = url.searchParams.get('city') ?? '';
    const summary = url.pathname === '/forecast' ? FORECASTS[city.toLowerCase()] : undefined;
    if (summary === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: `no forecast for ${city}` }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ city, summary }));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: actual } = server.address();
      resolve({
        url: `http://${host}:${actual}`,
        requests,
        close: () => new Promise((done) => {
          server.closeAllConnections();
          server.close(() => done());
        }),
      });
    });
  });
}

module.exports = { startWeatherApi };

if (require.main === module) {
  startWeatherApi({ port: Number(process.env.API_PORT ?? 3100) }).then(({ url }) => console.error(`weather API on ${url}`));
}
