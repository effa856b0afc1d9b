/*
 * The script of the report page: reads the figures embedded as JSON and draws the charts with
 * Chart.js (inlined before it). Charts draw on canvas, where the log's strings are never markup.
 */
export const PAGE_SCRIPT = `(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  if (typeof Chart === 'undefined') return;
  Chart.defaults.animation = false;
  Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
  Chart.defaults.color = '#333';
  var OK = '#2e9e5b';
  var ERRORS = ['#d1495b', '#edae49', '#8d5a97', '#e07a5f', '#6c757d', '#a4243b', '#f4a259', '#3d405b'];

  function errorColour(types, type) {
    return ERRORS[types.indexOf(type) % ERRORS.length];
  }

  function outcomesChart(id, rows) {
    var canvas = document.getElementById(id);
    if (canvas === null || rows.length === 0) return;
    var types = [];
    rows.forEach(function (r) {
      r.errors.forEach(function (e) { if (types.indexOf(e[0]) === -1) types.push(e[0]); });
    });
    var datasets = [{ label: 'ok', data: rows.map(function (r) { return r.ok; }), backgroundColor: OK, stack: 'calls' }];
    types.forEach(function (type) {
      datasets.push({
        label: type,
        data: rows.map(function (r) {
          var found = r.errors.filter(function (e) { return e[0] === type; })[0];
          return found === undefined ? 0 : found[1];
        }),
        backgroundColor: errorColour(types, type),
        stack: 'calls',
      });
    });
    canvas.parentNode.style.height = Math.max(160, 60 + rows.length * 34) + 'px';
    new Chart(canvas, {
      type: 'bar',
      data: { labels: rows.map(function (r) { return r.name; }), datasets: datasets },
      options: {
        indexAxis: 'y',
        maintainAspectRatio: false,
        scales: { x: { stacked: true, beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: 'calls' } }, y: { stacked: true } },
        plugins: { legend: { position: 'bottom' } },
      },
    });
  }

  function latencyChart(id, rows) {
    var canvas = document.getElementById(id);
    if (canvas === null || rows.length === 0) return;
    var series = [['p50', 'p50_ms', '#4f86c6'], ['p95', 'p95_ms', '#f4a259'], ['p99', 'p99_ms', '#d1495b'], ['max', 'max_ms', '#6c757d']];
    canvas.parentNode.style.height = Math.max(180, 60 + rows.length * 48) + 'px';
    new Chart(canvas, {
      type: 'bar',
      data: {
        labels: rows.map(function (r) { return r.side + ' · ' + r.tool; }),
        datasets: series.map(function (s) {
          return { label: s[0], data: rows.map(function (r) { return r[s[1]]; }), backgroundColor: s[2] };
        }),
      },
      options: {
        indexAxis: 'y',
        maintainAspectRatio: false,
        scales: { x: { beginAtZero: true, title: { display: true, text: 'milliseconds' } } },
        plugins: { legend: { position: 'bottom' } },
      },
    });
  }

  function timeChart(id, buckets) {
    var canvas = document.getElementById(id);
    if (canvas === null || buckets.length === 0) return;
    function bars(label, stack, colour, count) {
      return { label: label, stack: stack, backgroundColor: colour, data: buckets.map(count) };
    }
    new Chart(canvas, {
      type: 'bar',
      data: {
        labels: buckets.map(function (b) { return b.label; }),
        datasets: [
          bars('server ok', 'server', '#4f86c6', function (b) { return b.server - b.serverErrors; }),
          bars('server errors', 'server', '#d1495b', function (b) { return b.serverErrors; }),
          bars('client ok', 'client', '#a9c6e8', function (b) { return b.client - b.clientErrors; }),
          bars('client errors', 'client', '#f0a3ad', function (b) { return b.clientErrors; }),
        ],
      },
      options: {
        maintainAspectRatio: false,
        interaction: { mode: 'index', intersect: false },
        scales: {
          x: { stacked: true },
          y: { stacked: true, beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: 'operations per ' + data.bucketLabel } },
        },
        plugins: { legend: { position: 'bottom' } },
      },
    });
  }

  outcomesChart('chart-outcomes-server', data.tools.server);
  outcomesChart('chart-outcomes-client', data.tools.client);
  latencyChart('chart-latency', data.toolLatency);
  timeChart('chart-time', data.buckets);
})();
`;
