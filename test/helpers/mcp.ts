/*
 * The MCP SDK classes the in-process tests use. Call `mcpSdk()` only after creating the
 * instrumentation: the first call loads (and so patches) the SDK under test.
 */
import { sdk } from './sdk';

/* eslint-disable @typescript-eslint/no-explicit-any */
export interface McpSdk {
  McpServer: any;
  Client: any;
  InMemoryTransport: any;
  types: any;
}

let loaded: McpSdk | undefined;

export function mcpSdk(): McpSdk {
  loaded ??= {
    McpServer: sdk('server/mcp.js').McpServer,
    Client: sdk('client/index.js').Client,
    InMemoryTransport: sdk('inMemory.js').InMemoryTransport,
    types: sdk('types.js'),
  };
  return loaded;
}
