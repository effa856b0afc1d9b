/*
 * The hot path's faster writings give exactly what the plain ones give: ISO times without a `Date`
 * per call, `_meta` injection without object spread, canonical members of a record without copying
 * its body.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT_CONTEXT, propagation, trace, TraceFlags } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { isoMillis } from '../src/iso-time';
import { isoTimestamp } from '../src/json-log/line';
import { withInjectedMeta } from '../src/propagation';
import { canonicalJson, canonicalSplit, joinSplit } from '../src/audit/canonical';

describe('isoMillis', () => {
  test('is new Date(t).toISOString() for times around now, the epoch, negative and extreme ones', () => {
    const now = Date.now();
    const times = [0, -0, 0.4, -0.4, 1, -1, 999, 1000, -999, -1000, -1001, 8.64e15, -8.64e15, 253402300799999, 253402300800000, -62198755200000];
    for (let i = 0; i < 5000; i++) times.push(now + (i * 7919) % 3_000_000 + i / 7, now - i * 999.37, Math.random() * 1e13 - 5e12);
    for (const t of times) assert.equal(isoMillis(t), new Date(t).toISOString(), String(t));
  });

  test('throws the RangeError toISOString throws for times a Date cannot hold', () => {
    for (const t of [NaN, Infinity, -Infinity, 8.64e15 + 1, -8.64e15 - 1]) {
      assert.throws(() => new Date(t).toISOString(), RangeError);
      assert.throws(() => isoMillis(t), RangeError, String(t));
    }
  });

  test('the JSON log writes the epoch for such times, as before', () => {
    assert.equal(isoTimestamp(NaN), new Date(0).toISOString());
    assert.equal(isoTimestamp(1_700_000_000_123.9), new Date(1_700_000_000_123).toISOString());
  });
});

describe('withInjectedMeta', () => {
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const ctx = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: TraceFlags.SAMPLED,
  });
  const spread = (m: Record<string, unknown>, meta: Record<string, unknown>): unknown => {
    const params = m.params !== null && typeof m.params === 'object' ? (m.params as Record<string, unknown>) : undefined;
    return { ...m, params: { ...params, _meta: meta } };
  };

  test('copies message and params as a spread does: same members, same order, originals untouched', () => {
    const messages: Record<string, unknown>[] = [
      { method: 'tools/call', params: { name: 'x', arguments: { a: 1 } } },
      { jsonrpc: '2.0', method: 'tools/call', params: { _meta: { progressToken: 3 }, name: 'x' }, id: 4 },
      { method: 'notifications/initialized' },
      { method: 'm', params: 'not an object' },
      JSON.parse('{"method":"m","params":{"__proto__":{"polluted":true},"name":"n"},"__proto__":{"x":1}}'),
    ];
    for (const message of messages) {
      const before = JSON.stringify(message);
      const injected = withInjectedMeta(message, ctx) as Record<string, unknown>;
      const meta = (injected.params as { _meta: Record<string, unknown> })._meta;
      assert.equal(meta.traceparent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
      assert.deepEqual(Object.keys(injected), Object.keys(spread(message, meta) as object));
      assert.equal(JSON.stringify(injected), JSON.stringify(spread(message, meta)));
      assert.equal(Object.getPrototypeOf(injected), Object.prototype);
      assert.equal(Object.getPrototypeOf(injected.params), Object.prototype);
      assert.equal(JSON.stringify(message), before);
    }
  });
});

describe('canonicalSplit with extra members', () => {
  test('are the members of { ...body, ...extra }', () => {
    const bodies: Record<string, unknown>[] = [
      { type: 'op', ts: '2026-01-01T00:00:00.000Z', method: 'tools/call', tool: undefined, args: { sha256: 'ab' }, z: [1, 'a"b'] },
      { type: 'close', reason: 'shutdown' },
      { type: 'seal', ts: 5, seq: 99, torn: { offset: 1, length: 2 } },
    ];
    for (const body of bodies) {
      const extra = { v: 1, seq: 7, prev: '00', ts: typeof body.ts === 'string' ? body.ts : 'T' };
      assert.equal(joinSplit(canonicalSplit(body, extra, 'hash')), canonicalJson({ ...body, ...extra }));
      assert.equal(joinSplit(canonicalSplit(body, undefined, 'hash')), canonicalJson(body));
    }
    // Other extras: empty ones, an extra whose undefined value hides the body's member, integer-like
    // keys (listed out of code-unit order by Object.keys), a body's own member named like the split.
    const cases: Array<[Record<string, unknown>, Record<string, unknown>]> = [
      [{}, {}],
      [{ z: 1, a: 2 }, { m: 3 }],
      [{ a: 1, b: undefined }, { b: 2, c: undefined }],
      [{ b: 1 }, { b: undefined }],
      [{ '10': 'x', '9': 'y', hash: 'own' }, { '1': 'z' }],
    ];
    for (const [body, extra] of cases) {
      assert.equal(joinSplit(canonicalSplit(body, extra, 'hash')), canonicalJson({ ...body, ...extra }), JSON.stringify([body, extra]));
    }
  });
});
