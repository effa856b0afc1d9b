/*
 * Loads the MCP SDK the suite runs against: the repository's own, or the one installed under
 * `MCP_SDK_ROOT` (a directory whose node_modules holds another SDK version, used by the version runs).
 * Tests must create the instrumentation before calling these, so that the SDK is patched as it loads.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
export const SDK_ROOT = process.env.MCP_SDK_ROOT !== undefined && process.env.MCP_SDK_ROOT !== '' ? resolve(process.env.MCP_SDK_ROOT) : REPO_ROOT;

/** Absolute path of an SDK CommonJS module, e.g. `server/mcp.js`. */
export function sdkPath(subpath: string): string {
  return require.resolve(`@modelcontextprotocol/sdk/${subpath}`, { paths: [SDK_ROOT] });
}

/** The directory of the SDK package itself. */
export function sdkPackageDir(): string {
  const cjs = sdkPath('types.js');
  return cjs.slice(0, cjs.lastIndexOf(`${join('dist', 'cjs')}`) - 1);
}

export function sdkVersion(): string {
  return (JSON.parse(readFileSync(join(sdkPackageDir(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** [major, minor, patch] of the SDK under test. */
export function sdkVersionParts(): [number, number, number] {
  const [a, b, c] = sdkVersion().split('.').map((n) => parseInt(n, 10));
  return [a ?? 0, b ?? 0, c ?? 0];
}

export function sdkAtLeast(minor: number, patch = 0): boolean {
  const [, b, c] = sdkVersionParts();
  return b > minor || (b === minor && c >= patch);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function sdk(subpath: string): any {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(sdkPath(subpath));
}

/** The zod the SDK under test resolves (so schemas are of the version it expects). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function zod(): any {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const z = require(require.resolve('zod', { paths: [dirname(sdkPackageDir()), SDK_ROOT] }));
  return z.z ?? z;
}

export function fixture(name: string): string {
  return join(REPO_ROOT, 'test', 'fixtures', name);
}

export function fileUrl(path: string): string {
  return pathToFileURL(path).href;
}

/**
 * Environment for child processes: they load the same SDKs as this process (the generation of
 * MCP_SDK_MAJOR, unless `extra` names another one).
 */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const v2 = process.env.MCP_V2_ROOT;
  return {
    ...process.env,
    MCP_SDK_ROOT: SDK_ROOT,
    MCP_SDK_MAJOR: process.env.MCP_SDK_MAJOR ?? '1',
    ...(v2 !== undefined && v2 !== '' ? { MCP_V2_ROOT: resolve(v2) } : {}),
    ...extra,
  };
}
