/* `McpServer.connect`: remembers which McpServer drives which Server, so that its registered tools and prompts are known. */
import { registerMcpServer } from '../connection';
import { safely, type AnyFn, type PatchKit } from './kit';

export function mcpServerConnectWrapper(kit: PatchKit): (original: AnyFn) => AnyFn {
  return (original) =>
    function connect(this: { server?: unknown }, ...args: unknown[]): unknown {
      safely(kit, () => {
        if (this.server !== null && typeof this.server === 'object') registerMcpServer(this.server, this);
      });
      return original.apply(this, args);
    };
}
