// Child process: the restarted application. For each client, builds a new one from the state the
// first process persisted and makes its first authorized call; prints one JSON line.
import { type ClientKind, createClient, type PersistedState } from './clients.js';

export interface WarmInput {
  readonly clients: ReadonlyArray<{ kind: ClientKind; mcpUrl: string; persisted: PersistedState }>;
  /** Added to the mcp-oauth sessions' clock: the process restarts this much later. */
  readonly clockOffsetMs: number;
}
export type WarmOutput = Array<{ kind: ClientKind; error?: string }>;

async function main(input: WarmInput): Promise<WarmOutput> {
  const output: WarmOutput = [];
  const clock = () => Date.now() + input.clockOffsetMs;
  for (const { kind, mcpUrl, persisted } of input.clients) {
    const client = createClient(kind, { mcpUrl, persisted, clock });
    try {
      await client.connect();
      output.push({ kind });
    } catch (error) {
      output.push({ kind, error: error instanceof Error ? error.message : String(error) });
    } finally {
      await client.close().catch(() => {});
    }
  }
  return output;
}

if (process.argv[2] !== undefined) {
  const result = await main(JSON.parse(process.argv[2]) as WarmInput);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
