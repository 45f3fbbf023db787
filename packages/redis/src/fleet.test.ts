/**
 * Issue 14's measure, in counts: 8 processes × 250 concurrent calls on an expired token, against
 * the demo's oidc-provider, which rotates refresh tokens and revokes the whole grant when a used one
 * comes back. Each process is a real Node process with its own `OAuthSession`, its own Redis
 * connection and `@mcp-oauth/fetch`; the MCP server checks every token it is sent.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkGrant,
  type FleetServers,
  type FleetStore,
  type RefreshPolicy,
  runStorm,
  seedGrant,
  startFleetServers,
} from './test-utils/fleet.js';
import { type RedisServer, startRedisServer } from './test-utils/redis-server.js';

const PROCESSES = 8;
const CALLS = 250;

let servers: FleetServers;
let redis: RedisServer;
let runs = 0;

beforeAll(async () => {
  [servers, redis] = await Promise.all([startFleetServers(), startRedisServer()]);
}, 60_000);

afterAll(async () => {
  await Promise.all([servers?.close(), redis?.stop()]);
});

/**
 * Leases of a few seconds: short, since the tests that kill a holder wait one out, yet long enough
 * that a holder on a loaded machine renews its lease in time (a lapse would show as a second
 * refresh, which these tests count).
 */
function redisStore(leaseMs: number): FleetStore {
  return { type: 'redis', url: redis.url, prefix: `fleet-${++runs}`, leaseMs };
}

/** Kills the first process that reaches `phase` of a refresh; lets every other one go on. */
function killFirstAt(phase: 'before' | 'after'): RefreshPolicy {
  let killed = false;
  return async (event) => {
    if (event.phase !== phase || killed) return 'continue';
    killed = true;
    return 'kill';
  };
}

describe(`${PROCESSES} processes × ${CALLS} concurrent calls on an expired token`, {
  timeout: 90_000,
}, () => {
  it('share one refresh through Redis: 1 refresh grant, 0 failed calls, the grant alive afterwards', async () => {
    const store = redisStore(5_000);
    const seeded = await seedGrant(servers, store);
    const storm = await runStorm(servers, { store, processes: PROCESSES, callsPerProcess: CALLS });
    expect(storm.tokenResponses).toEqual([200]);
    expect(storm.failures).toEqual({});
    expect(storm.succeeded).toBe(PROCESSES * CALLS);
    // Every call went out with the one new token: none was refused, none used another token.
    expect(storm.mcpResponses).toEqual({ 200: PROCESSES * CALLS });
    expect(storm.accessTokensUsed).toBe(1);
    const grant = await checkGrant(servers, store, seeded);
    expect(grant).toMatchObject({ mcpStatus: 200, refreshStatus: 200 });
    expect(grant.refreshToken).not.toBe(seeded.refreshToken);
  });

  it('go on when the lease holder is killed before its refresh reached the authorization server', async () => {
    const store = redisStore(2_000);
    const seeded = await seedGrant(servers, store);
    const storm = await runStorm(servers, {
      store,
      processes: PROCESSES,
      callsPerProcess: CALLS,
      onRefresh: killFirstAt('before'),
    });
    expect(storm.killed).toBe(1);
    // The survivors waited for the dead holder's lease to expire, then one of them refreshed.
    expect(storm.tokenResponses).toEqual([200]);
    expect(storm.failures).toEqual({});
    expect(storm.succeeded).toBe((PROCESSES - 1) * CALLS);
    expect(storm.authorizations).toBe(0);
    expect(await checkGrant(servers, store, seeded)).toMatchObject({
      mcpStatus: 200,
      refreshStatus: 200,
    });
  });

  it('sign in again once, never looping, when the holder died after the server rotated the token', async () => {
    // The one window that cannot be saved: the authorization server has used up the stored refresh
    // token, and the only process that knew its successor died before storing it.
    const store = redisStore(2_000);
    const seeded = await seedGrant(servers, store);
    const storm = await runStorm(servers, {
      store,
      processes: PROCESSES,
      callsPerProcess: CALLS,
      onRefresh: killFirstAt('after'),
    });
    expect(storm.killed).toBe(1);
    // The dead holder's refresh (200), the next holder's refresh with the used token (invalid_grant:
    // the server revokes the grant), one new authorization code exchange (200). Nothing more.
    expect(storm.tokenResponses).toEqual([200, 400, 200]);
    expect(storm.events['session.refresh_token_rejected']).toBe(1);
    expect(storm.authorizations).toBe(1);
    expect(storm.failures).toEqual({});
    expect(storm.succeeded).toBe((PROCESSES - 1) * CALLS);
    const grant = await checkGrant(servers, store, seeded);
    expect(grant).toMatchObject({ mcpStatus: 200, refreshStatus: 200 });
  });

  it('ride out a Redis restart in the middle of the refresh', async () => {
    const store = redisStore(5_000);
    const seeded = await seedGrant(servers, store);
    let restarted = false;
    const storm = await runStorm(servers, {
      store,
      processes: PROCESSES,
      callsPerProcess: CALLS,
      // The lease holder is about to refresh; everyone else is polling the lease. Redis goes down
      // (saving its data, as a server with persistence does) and comes back.
      onRefresh: async (event) => {
        if (event.phase === 'before' && !restarted) {
          restarted = true;
          await redis.restart();
        }
        return 'continue';
      },
    });
    expect(restarted).toBe(true);
    expect(storm.tokenResponses).toEqual([200]);
    expect(storm.failures).toEqual({});
    expect(storm.succeeded).toBe(PROCESSES * CALLS);
    expect(await checkGrant(servers, store, seeded)).toMatchObject({
      mcpStatus: 200,
      refreshStatus: 200,
    });
  });

  it('on one machine, the file store of @mcp-oauth/node does the same (for comparison)', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'mcp-oauth-fleet-'));
    try {
      const store: FleetStore = { type: 'file', directory };
      const seeded = await seedGrant(servers, store);
      const storm = await runStorm(servers, { store, processes: PROCESSES, callsPerProcess: CALLS });
      expect(storm.tokenResponses).toEqual([200]);
      expect(storm.failures).toEqual({});
      expect(storm.succeeded).toBe(PROCESSES * CALLS);
      expect(await checkGrant(servers, store, seeded)).toMatchObject({
        mcpStatus: 200,
        refreshStatus: 200,
      });
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
