/*
 * The MCP SDK generation the behavioural tests run on (MCP_SDK_MAJOR: `1` default, `2` the split v2
 * packages), as one generation-neutral adapter: its McpServer, Client, transports, error class, zod,
 * and helpers that hide the API differences (see test/fixtures/generation.cjs, which child processes
 * share). Call `mcpSdk()` only after creating the instrumentation: the first call loads (and so
 * patches) the SDK under test.
 */
import { fixture } from './sdk';

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Major = 1 | 2;

/** Extra of a tool handler registered through the adapter, the same on both generations. */
export interface ToolExtra {
  signal: AbortSignal;
  _meta: Record<string, unknown> | undefined;
  sessionId: string | undefined;
  sendNotification(notification: { method: string; params?: unknown }): Promise<void>;
  /** What the SDK itself passed: v1 `extra`, v2 `ctx`. */
  raw: any;
}

export interface McpSdk {
  major: Major;
  version: string;
  /** v1: the SDK is at least 1.<minor>.<patch>; always true on v2. */
  v1AtLeast(minor: number, patch?: number): boolean;
  McpServer: any;
  Client: any;
  InMemoryTransport: any;
  StdioServerTransport: any;
  StdioClientTransport: any;
  /** v1 `StreamableHTTPServerTransport`; v2 `NodeStreamableHTTPServerTransport` of @modelcontextprotocol/node (undefined when not installed). */
  StreamableHTTPServerTransport: any;
  StreamableHTTPClientTransport: any;
  /** v1 `McpError`, v2 `ProtocolError`. */
  ProtocolError: any;
  z: any;
  /** v1 `types.js` (undefined on v2). */
  types: any;
  LATEST_PROTOCOL_VERSION: string;
  SUPPORTED_PROTOCOL_VERSIONS: string[];
  isInitializeRequest(body: unknown): boolean;
  /** v2 only: the loaded packages (`server`, `client`, `serverStdio`, `clientStdio`, `node` or undefined). */
  modules?: Record<string, any>;
  features: { elicitation: boolean; toolProgressToken: boolean };
  expect: {
    timeoutCode: number | string;
    connectionClosedCode: number | string;
    /** true: an unknown tool rejects with -32602; undefined: it depends on the 1.x release. */
    unknownToolRejects: true | undefined;
    clientErrorMessage(code: number, message: string): string;
  };
  setRequestHandler(protocol: any, method: string, handler: (request: any, extra: any) => unknown): void;
  setNotificationHandler(protocol: any, method: string, handler: (notification: any, extra: any) => unknown): void;
  request(protocol: any, method: string, params?: Record<string, unknown>, options?: Record<string, unknown>): Promise<any>;
  callTool(client: any, params: Record<string, unknown>, options?: Record<string, unknown>): Promise<any>;
  tool(server: any, name: string, description: string, shape: Record<string, unknown>, handler: (args: any, extra: ToolExtra) => unknown): void;
  prompt(server: any, name: string, shape: Record<string, unknown>, handler: (args: any) => unknown): void;
  resource(server: any, name: string, uri: string, handler: (uri: URL) => unknown): void;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const generation = require(fixture('generation.cjs')) as {
  generationMajor(): Major;
  generationRoot(major: Major): string;
  loadGeneration(major?: Major): McpSdk;
};

/** The directory whose node_modules holds a generation's packages (MCP_SDK_ROOT / MCP_V2_ROOT, else the repository). */
export function generationRoot(major: Major): string {
  return generation.generationRoot(major);
}

/** The generation under test: 1 or 2. */
export const SDK_MAJOR: Major = generation.generationMajor();

/** The generation under test (MCP_SDK_MAJOR). */
export function mcpSdk(): McpSdk {
  return generation.loadGeneration(SDK_MAJOR);
}

/** A given generation, whatever MCP_SDK_MAJOR says (for cross-generation tests). */
export function mcpGeneration(major: Major): McpSdk {
  return generation.loadGeneration(major);
}

/** The other generation than the one under test. */
export const OTHER_MAJOR: Major = SDK_MAJOR === 1 ? 2 : 1;

/** A file-level `skip` for suites written against v1 APIs: the reason on v2, false on v1. */
export function v1Only(reason: string): string | false {
  return SDK_MAJOR === 2 ? `v1 only: ${reason}` : false;
}

/** A scenario server and a scenario client connected over a linked in-memory pair. */
export interface ScenarioSession {
  client: any;
  server: any;
  clientTransport: any;
  serverTransport: any;
  close(): Promise<void>;
}

/**
 * The scenario server (test/fixtures/scenario.cjs) of `server`'s generation and a configured scenario
 * client of `client`'s (both default to the generation under test), connected in memory. `sessionId`
 * is set on both transports after connecting (a client whose transport has one skips initialize).
 */
export async function connectScenario(options: { client?: McpSdk; server?: McpSdk; sessionId?: string } = {}): Promise<ScenarioSession> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const scenario = require(fixture('scenario.cjs'));
  const serverSdk = options.server ?? mcpSdk();
  const clientSdk = options.client ?? mcpSdk();
  const server = scenario.createScenarioServer(serverSdk);
  const client = scenario.configureScenarioClient(new clientSdk.Client(scenario.CLIENT_INFO, scenario.clientCapabilities(clientSdk)), clientSdk);
  const [clientTransport, serverTransport] = serverSdk.InMemoryTransport.createLinkedPair();
  await server.connect(serverTransport);
  await client.connect(clientTransport);
  if (options.sessionId !== undefined) {
    clientTransport.sessionId = options.sessionId;
    serverTransport.sessionId = options.sessionId;
  }
  return {
    client,
    server,
    clientTransport,
    serverTransport,
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}
