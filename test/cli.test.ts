/*
 * `mcp-otel` itself: the dispatcher's usage errors (no command, an unknown command or option: exit
 * 2, the usage on standard error, nothing on standard output) and its help (exit 0, standard output).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './helpers/sdk';

const CLI = path.join(REPO_ROOT, 'build', 'src', 'cli', 'main.js');

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { input: '', encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('mcp-otel', () => {
  test('usage errors exit 2 with the usage on standard error', () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /^mcp-otel: no command\n/],
      [['bogus'], /^mcp-otel: unknown command 'bogus'\n/],
      [['--bogus'], /^mcp-otel: Unknown option '--bogus'/],
      [['--bogus', 'stats'], /^mcp-otel: Unknown option '--bogus'/],
      [['--help=yes'], /^mcp-otel: Option '-h, --help' does not take an argument/],
    ];
    for (const [args, message] of cases) {
      const r = cli(args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
      assert.match(r.stderr, /usage: mcp-otel <command> \[options\]/, args.join(' '));
      assert.equal(r.stdout, '', args.join(' '));
    }
  });

  test('help exits 0 with the usage on standard output', () => {
    for (const args of [['--help'], ['-h'], ['help']]) {
      const r = cli(args);
      assert.equal(r.status, 0, args.join(' '));
      assert.match(r.stdout, /^usage: mcp-otel <command> \[options\]\n\ncommands:\n  stats /);
      assert.equal(r.stderr, '');
    }
  });

  test('options after the command are the command\'s', () => {
    const r = cli(['stats', '--bogus']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^mcp-otel stats: Unknown option '--bogus'/);
    assert.match(r.stderr, /usage: mcp-otel stats/);
  });
});
