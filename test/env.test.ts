/* The one reader of environment variables: which spellings are true, what is unset, and that a bad value is reported once. */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { envFlag, envList, envPositiveNumber, envString } from '../src/env';

const NAME = 'OTEL_INSTRUMENTATION_MCP_TEST_VARIABLE';

describe('environment variables', () => {
  afterEach(() => {
    delete process.env[NAME];
  });

  function flag(value: string | undefined): { value: boolean | undefined; warnings: string[] } {
    if (value === undefined) delete process.env[NAME];
    else process.env[NAME] = value;
    const warnings: string[] = [];
    return { value: envFlag(NAME, (_key, message) => warnings.push(message)), warnings };
  }

  test('true and false in any case, trimmed; unset and empty are undefined', () => {
    for (const spelling of ['true', 'TRUE', ' True ']) assert.deepEqual(flag(spelling), { value: true, warnings: [] });
    for (const spelling of ['false', 'FALSE', ' false']) assert.deepEqual(flag(spelling), { value: false, warnings: [] });
    assert.deepEqual(flag(undefined), { value: undefined, warnings: [] });
    assert.deepEqual(flag('   '), { value: undefined, warnings: [] });
  });

  test('any other value is false, with a warning naming it', () => {
    for (const spelling of ['1', 'yes', 'on', 'enabled']) {
      const read = flag(spelling);
      assert.equal(read.value, false, spelling);
      assert.equal(read.warnings.length, 1);
      assert.match(read.warnings[0]!, new RegExp(`${NAME}="${spelling}" is neither true nor false`));
    }
  });

  test('strings and lists are trimmed; empty items dropped', () => {
    process.env[NAME] = '  a , b,, c ';
    assert.equal(envString(NAME), 'a , b,, c');
    assert.deepEqual(envList(NAME), ['a', 'b', 'c']);
    process.env[NAME] = '';
    assert.equal(envString(NAME), undefined);
    assert.deepEqual(envList(NAME), []);
  });

  test('positive numbers: others are reported and read as unset', () => {
    const warnings: string[] = [];
    const read = (value: string) => {
      process.env[NAME] = value;
      return envPositiveNumber(NAME, (_key, message) => warnings.push(message));
    };
    assert.equal(read('2.5'), 2.5);
    assert.equal(read('0'), undefined);
    assert.equal(read('-1'), undefined);
    assert.equal(read('soon'), undefined);
    assert.equal(warnings.length, 3);
  });
});
