/**
 * 2. Refresh storm: N calls at once, each with a token the server no longer accepts.
 *
 * - `expired`: the access token has expired. The server forgets it (as it does at expiry) and the
 *   client's clock moves past its `expires_in`: mcp-oauth sessions are given that clock and renew
 *   before sending; the SDK clients keep no expiry, so they learn of it from the 401s.
 * - `revoked`: the server forgets every access token (revocation); nobody's clock moves, so every
 *   client learns of it from the 401s. Refresh tokens stay valid in both cases; the server rotates
 *   them (a refresh token works once).
 *
 * Each storm gets a fresh testkit server and a client that has already authorized and made one call.
 * Counted on the server: token requests (target: 1) and every other request; on the client: calls
 * that failed (target: 0), user prompts (target: 0), and the time until every call settled. Then
 * one more call after one more revocation shows whether the client can still renew without the user.
 */
import { startTestServer } from '@mcp-oauth/testkit';
import { CLIENT_KINDS, type ClientKind, createClient } from './clients.js';
import type { BenchConfig } from './config.js';
import { countEndpoints, type EndpointCounts } from './endpoints.js';
import { mcpReply } from './mcp-responder.js';
import { quietly } from './quiet-console.js';
import { median } from './stats.js';

export const SCENARIOS = ['expired', 'revoked'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface StormRound {
  readonly tokenRequests: number;
  readonly failures: number;
  readonly succeeded: number;
  readonly prompts: number;
  readonly drainMs: number;
  /** Every request the storm caused, per endpoint (MCP includes retries). */
  readonly requests: EndpointCounts;
  /** MCP requests answered 401. */
  readonly unauthorized: number;
  /** A call after one more revocation succeeded without asking the user. */
  readonly renewsAfterwards: boolean;
  /** Lines the client wrote to `console.warn`/`console.error` during the storm (silenced here). */
  readonly consoleWarnings: number;
  /** The first failure's message, when there was one (no secrets: these are the clients' own). */
  readonly firstError?: string;
}

export interface StormRow {
  readonly client: ClientKind;
  readonly scenario: Scenario;
  readonly concurrency: number;
  /** Medians over rounds (counts, drain time); `renewsAfterwards` holds only if it held every round. */
  readonly tokenRequests: number;
  readonly failures: number;
  readonly prompts: number;
  readonly drainMs: number;
  readonly mcpRequests: number;
  readonly discoveryRequests: number;
  readonly renewsAfterwards: boolean;
  readonly rounds: readonly StormRound[];
}

const EXPIRY_JUMP_MS = 2 * 3600_000;

export async function measureStorms(config: BenchConfig): Promise<StormRow[]> {
  const rows: StormRow[] = [];
  for (const scenario of SCENARIOS) {
    const rounds = new Map<ClientKind, StormRound[]>();
    // Rounds outermost, so that every client's rounds are spread over the run alike.
    for (let round = 0; round < config.storm.rounds; round++) {
      for (const client of CLIENT_KINDS) {
        const list = rounds.get(client) ?? [];
        list.push(await stormOnce(client, scenario, config.storm.concurrency));
        rounds.set(client, list);
      }
    }
    for (const client of CLIENT_KINDS) {
      const list = rounds.get(client)!;
      rows.push({
        client,
        scenario,
        concurrency: config.storm.concurrency,
        tokenRequests: median(list.map((each) => each.tokenRequests)),
        failures: median(list.map((each) => each.failures)),
        prompts: median(list.map((each) => each.prompts)),
        drainMs: median(list.map((each) => each.drainMs)),
        mcpRequests: median(list.map((each) => each.requests.mcp)),
        discoveryRequests: median(list.map((each) => each.requests.prm + each.requests.asMetadata)),
        renewsAfterwards: list.every((each) => each.renewsAfterwards),
        rounds: list,
      });
    }
  }
  return rows;
}

export async function stormOnce(
  kind: ClientKind,
  scenario: Scenario,
  concurrency: number,
): Promise<StormRound> {
  const server = await startTestServer();
  server.serveResource(mcpReply);
  let offset = 0;
  const client = createClient(kind, { mcpUrl: server.mcpUrl, clock: () => Date.now() + offset });
  try {
    await client.connect();
    await client.call();

    server.revokeAllAccessTokens();
    if (scenario === 'expired') offset += EXPIRY_JUMP_MS;
    const promptsBefore = client.prompts;
    const mark = server.requests.length;
    const started = performance.now();
    const { result: settled, warnings } = await quietly(() =>
      Promise.allSettled(Array.from({ length: concurrency }, () => client.call())),
    );
    const drainMs = performance.now() - started;
    const storm = server.requests.slice(mark);
    const rejected = settled.filter((each) => each.status === 'rejected');
    const prompts = client.prompts - promptsBefore;

    server.revokeAllAccessTokens();
    const promptsBeforeFollowUp = client.prompts;
    const { result: renewsAfterwards } = await quietly(() =>
      client.call().then(
        () => client.prompts === promptsBeforeFollowUp,
        () => false,
      ),
    );
    const requests = countEndpoints(storm);
    return {
      tokenRequests: requests.token,
      failures: rejected.length,
      succeeded: concurrency - rejected.length,
      prompts,
      drainMs,
      requests,
      unauthorized: storm.filter((request) => request.path === '/mcp' && request.status === 401).length,
      renewsAfterwards,
      consoleWarnings: warnings,
      ...(rejected[0] === undefined ? {} : { firstError: describeError(rejected[0].reason) }),
    };
  } finally {
    await client.close().catch(() => {});
    await server.close();
  }
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return `${error.name}${code === undefined ? '' : ` (${String(code)})`}: ${error.message}`.slice(0, 200);
}
