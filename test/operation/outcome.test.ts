/* Outcome classification, unit by unit: what `error.type`, the status code and the span status are for each way an operation ends. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ERROR_TYPE_OTHER,
  OK,
  exceptionType,
  handlerErrorOutcome,
  isCallerFault,
  isTimeout,
  isToolErrorResult,
  jsonRpcErrorOutcome,
  localFailureOutcome,
  toolErrorOutcome,
} from '../../src/operation/outcome';
import { spanNameOf, targetOf } from '../../src/operation/target';

describe('outcome classification', () => {
  test('OK is frozen and says nothing went wrong', () => {
    assert.ok(Object.isFrozen(OK));
    assert.equal(OK.errorType, undefined);
    assert.equal(OK.markError, false);
  });

  test('caller faults (-32700, -32600, -32601, -32602, -32002) do not fail a SERVER span; they fail a CLIENT span', () => {
    for (const code of [-32700, -32600, -32601, -32602, -32002]) {
      assert.equal(isCallerFault(code), true, String(code));
      assert.deepEqual(jsonRpcErrorOutcome(code, 'm', true), { errorType: String(code), statusCode: code, message: 'm', markError: false, exception: undefined });
      assert.equal(jsonRpcErrorOutcome(code, 'm', false).markError, true);
    }
    for (const code of [-32603, -32000, -32001, 42]) {
      assert.equal(isCallerFault(code), false, String(code));
      assert.equal(jsonRpcErrorOutcome(code, undefined, true).markError, true);
    }
  });

  test('a handler throwing an error with an integer code answers that code; without one, -32603 with an exception event', () => {
    const coded = handlerErrorOutcome(Object.assign(new Error('bad params'), { code: -32602 }));
    assert.deepEqual(coded, { errorType: '-32602', statusCode: -32602, message: 'bad params', markError: false, exception: undefined });
    const plain = new TypeError('boom');
    const uncoded = handlerErrorOutcome(plain);
    assert.equal(uncoded.errorType, '-32603');
    assert.equal(uncoded.statusCode, -32603);
    assert.equal(uncoded.message, 'boom');
    assert.equal(uncoded.markError, true);
    assert.equal(uncoded.exception, plain);
    assert.equal(handlerErrorOutcome('a string').message, 'Internal error');
    assert.equal(handlerErrorOutcome({ code: 1.5 }).errorType, '-32603', 'a non-integer code is no JSON-RPC code');
  });

  test('v2 encodes a code for the wire through the negotiated codec; a codec that throws leaves it as is', () => {
    const protocol = { _negotiatedWireCodec: () => ({ encodeErrorCode: (code: number) => (code === -32002 ? -32602 : code) }) };
    assert.equal(handlerErrorOutcome({ code: -32002, message: 'x' }, protocol).statusCode, -32602);
    const broken = { _negotiatedWireCodec: () => { throw new Error('no codec'); } };
    assert.equal(handlerErrorOutcome({ code: -32002, message: 'x' }, broken).statusCode, -32002);
  });

  test('a tool error is an isError result of tools/call only', () => {
    assert.equal(isToolErrorResult('tools/call', { isError: true }), true);
    assert.equal(isToolErrorResult('tools/call', { isError: 'yes' }), false);
    assert.equal(isToolErrorResult('prompts/get', { isError: true }), false);
    assert.equal(isToolErrorResult('tools/call', null), false);
    assert.deepEqual(toolErrorOutcome(), { errorType: 'tool_error', statusCode: undefined, message: undefined, markError: true, exception: undefined });
  });

  test('local failures: the message of the error, else the type; markError as asked', () => {
    assert.deepEqual(localFailureOutcome('timeout', new Error('took too long')), { errorType: 'timeout', statusCode: undefined, message: 'took too long', markError: true, exception: undefined });
    assert.equal(localFailureOutcome('cancelled', undefined, false).message, 'cancelled');
    assert.equal(localFailureOutcome('cancelled', undefined, false).markError, false);
  });

  test('timeouts: v1 code -32001 and v2 REQUEST_TIMEOUT', () => {
    assert.equal(isTimeout({ code: -32001 }), true);
    assert.equal(isTimeout({ code: 'REQUEST_TIMEOUT' }), true);
    assert.equal(isTimeout({ code: -32000 }), false);
    assert.equal(isTimeout(null), false);
  });

  test('exception types: the class name, v2 SdkError codes mapped, _OTHER for plain objects and primitives', () => {
    assert.equal(exceptionType(new RangeError('x')), 'RangeError');
    class SdkError extends Error {
      static mcpBrand = 'mcp.SdkError';
      constructor(readonly code: string) {
        super(code);
      }
    }
    assert.equal(exceptionType(new SdkError('REQUEST_TIMEOUT')), 'timeout');
    assert.equal(exceptionType(new SdkError('CONNECTION_CLOSED')), 'connection_closed');
    assert.equal(exceptionType(new SdkError('NOT_CONNECTED')), 'NOT_CONNECTED');
    assert.equal(exceptionType(Object.assign(new Error('x'), { code: 'ECONNRESET' })), 'Error', 'a string code of a foreign error is not an SdkError');
    assert.equal(exceptionType({ message: 'plain' }), ERROR_TYPE_OTHER);
    assert.equal(exceptionType('text'), ERROR_TYPE_OTHER);
    assert.equal(exceptionType(undefined), ERROR_TYPE_OTHER);
  });
});

describe('message targets and span names', () => {
  test('tools, prompts, resources and prompt completions name their target; other methods none', () => {
    assert.deepEqual(targetOf('tools/call', { name: 'echo' }), { toolName: 'echo', promptName: undefined, resourceUri: undefined });
    assert.deepEqual(targetOf('prompts/get', { name: 'greet' }), { toolName: undefined, promptName: 'greet', resourceUri: undefined });
    assert.equal(targetOf('resources/read', { uri: 'file:///a' }).resourceUri, 'file:///a');
    assert.equal(targetOf('notifications/resources/updated', { uri: 'file:///b' }).resourceUri, 'file:///b');
    assert.equal(targetOf('completion/complete', { ref: { type: 'ref/prompt', name: 'greet' } }).promptName, 'greet');
    assert.equal(targetOf('completion/complete', { ref: { type: 'ref/resource', uri: 'x' } }).promptName, undefined);
    assert.deepEqual(targetOf('tools/call', { name: 42 }), { toolName: undefined, promptName: undefined, resourceUri: undefined });
    assert.deepEqual(targetOf('ping', undefined), { toolName: undefined, promptName: undefined, resourceUri: undefined });
  });

  test('span names: method and target; a resource URI only when asked', () => {
    assert.equal(spanNameOf('tools/call', targetOf('tools/call', { name: 'echo' }), false), 'tools/call echo');
    assert.equal(spanNameOf('resources/read', targetOf('resources/read', { uri: 'file:///a' }), false), 'resources/read');
    assert.equal(spanNameOf('resources/read', targetOf('resources/read', { uri: 'file:///a' }), true), 'resources/read file:///a');
    assert.equal(spanNameOf('ping', targetOf('ping', {}), true), 'ping');
  });
});
