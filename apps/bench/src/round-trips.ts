/**
 * 3. Round trips to the first authorized call, per endpoint, against a testkit server.
 *
 * Cold: empty stores; the client makes its first call (the SDK clients: `connect()`, whose
 * `initialize` is their first call), authorizing on the way as its docs describe. Counted: every
 * request up to and including the first MCP request answered 2xx. Warm: the client's persisted
 * state (mcp-oauth: its session stores; SDK: its provider's saved state) goes to a new process
 * (round-trips-worker.ts), which builds a new client from it and makes the first call again.
 * Warm, expired: the same, restarted after the access token expired — the server no longer accepts
 * it and the new process's clock is past its `expires_in` (the SDK clients keep no expiry).
 */
import { type RecordedRequest, startTestServer, type TestServer } from '@mcp-oauth/testkit';
import { runWorker } from './child.js';
import { CLIENT_KINDS, type ClientKind, createClient, type PersistedState } from './clients.js';
import { type EndpointCounts, emptyCounts, endpointOf } from './endpoints.js';
import { mcpReply } from './mcp-responder.js';
import type { WarmInput, WarmOutput } from './round-trips-worker.js';

/** The protocol minimum: one unauthorized MCP request, discovery, registration, the user, one token request, the retry. */
export const COLD_MINIMUM: EndpointCounts = {
  prm: 1,
  asMetadata: 1,
  registration: 1,
  authorize: 1,
  token: 1,
  mcp: 2,
};
/** With a valid persisted token: the call itself, nothing else. */
export const WARM_MINIMUM: EndpointCounts = { ...emptyCounts(), mcp: 1 };
/** With an expired persisted token and its refresh token: one refresh, then the call. */
export const WARM_EXPIRED_MINIMUM: EndpointCounts = { ...emptyCounts(), token: 1, mcp: 1 };

const EXPIRY_JUMP_MS = 2 * 3600_000;

export interface RoundTripRow {
  readonly client: ClientKind;
  readonly cold: EndpointCounts;
  readonly warm: EndpointCounts;
  readonly warmExpired: EndpointCounts;
  /** A warm start failed in the new process (its message). */
  readonly warmError?: string;
}

/** Requests per endpoint up to and including the first MCP request answered 2xx. */
export function countUntilAuthorized(requests: readonly RecordedRequest[]): EndpointCounts {
  const counts = emptyCounts();
  for (const request of requests) {
    const endpoint = endpointOf(request);
    if (endpoint === undefined) continue;
    counts[endpoint]++;
    const status = request.status ?? 0;
    if (endpoint === 'mcp' && status >= 200 && status < 300) break;
  }
  return counts;
}

export async function measureRoundTrips(): Promise<RoundTripRow[]> {
  const servers = new Map<ClientKind, TestServer>();
  try {
    const cold = new Map<ClientKind, EndpointCounts>();
    const clients: Array<WarmInput['clients'][number]> = [];
    const marks = new Map<ClientKind, number>();
    for (const kind of CLIENT_KINDS) {
      const server = await startTestServer();
      server.serveResource(mcpReply);
      servers.set(kind, server);
      const client = createClient(kind, { mcpUrl: server.mcpUrl });
      let persisted: PersistedState;
      try {
        await client.connect();
        persisted = client.persist();
      } finally {
        await client.close();
      }
      cold.set(kind, countUntilAuthorized(server.requests));
      // The SDK clients open their optional GET stream in the background: let it land first.
      await quiet(server);
      marks.set(kind, server.requests.length);
      clients.push({ kind, mcpUrl: server.mcpUrl, persisted });
    }
    const warmOutput = await runWorker<WarmOutput>('./round-trips-worker.ts', { clients, clockOffsetMs: 0 });
    const warm = new Map<ClientKind, EndpointCounts>();
    for (const kind of CLIENT_KINDS) {
      const server = servers.get(kind)!;
      warm.set(kind, countUntilAuthorized(server.requests.slice(marks.get(kind))));
      await quiet(server);
      marks.set(kind, server.requests.length);
      server.revokeAllAccessTokens();
    }
    // The same persisted state again (its refresh token is unused so far), restarted after expiry.
    const expiredOutput = await runWorker<WarmOutput>('./round-trips-worker.ts', {
      clients,
      clockOffsetMs: EXPIRY_JUMP_MS,
    });
    return CLIENT_KINDS.map((kind) => {
      const server = servers.get(kind)!;
      const error = [...warmOutput, ...expiredOutput].find((each) => each.kind === kind && each.error)?.error;
      return {
        client: kind,
        cold: cold.get(kind)!,
        warm: warm.get(kind)!,
        warmExpired: countUntilAuthorized(server.requests.slice(marks.get(kind))),
        ...(error === undefined ? {} : { warmError: error }),
      };
    });
  } finally {
    for (const server of servers.values()) await server.close();
  }
}

/** Waits until no request has arrived for 100 ms (at most 2 s). */
async function quiet(server: TestServer): Promise<void> {
  for (let waited = 0, seen = -1; waited < 2000 && seen !== server.requests.length; waited += 100) {
    seen = server.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
