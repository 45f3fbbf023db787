/**
 * 6. Fleet: several processes share one grant through a store, all calling at once on an expired
 * access token, against the demo's oidc-provider (refresh tokens rotate; a reused one revokes the
 * grant). The harness and its workers are those of `packages/redis/src/fleet.test.ts`, which
 * asserts the counts; here they are timed.
 *
 * - `redis`: Redis stores (`@mcp-oauth/redis`), processes as if on different machines.
 * - `redis, holder killed`: the process holding the refresh lease is SIGKILLed just before its
 *   refresh request leaves; the others wait out its lease (2 s here), then one refreshes.
 * - `redis, restart`: Redis restarts (saving and reloading its data) while the holder refreshes.
 * - `file`: the file store of `@mcp-oauth/node`, all processes on this machine.
 *
 * `drain ms` runs from the moment every process is told to go until the last one has its answers;
 * it includes one token request, the waiting for the lease and every MCP call, not process start.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type FleetServers,
  type FleetStore,
  type RefreshPolicy,
  runStorm,
  seedGrant,
  startFleetServers,
} from '../../../packages/redis/src/test-utils/fleet.js';
import { type RedisServer, startRedisServer } from '../../../packages/redis/src/test-utils/redis-server.js';
import type { BenchConfig } from './config.js';
import { median } from './stats.js';

export const FLEET_SCENARIOS = ['redis', 'redis, holder killed', 'redis, restart', 'file'] as const;
export type FleetScenario = (typeof FLEET_SCENARIOS)[number];

export interface FleetRound {
  /** Status of each token endpoint response, in order (target: one 200). */
  readonly tokenResponses: readonly number[];
  readonly failed: number;
  readonly succeeded: number;
  readonly killed: number;
  readonly drainMs: number;
}

export interface FleetRow {
  readonly scenario: FleetScenario;
  readonly processes: number;
  readonly callsPerProcess: number;
  /** Medians over rounds. */
  readonly tokenRequests: number;
  readonly failures: number;
  readonly drainMs: number;
  readonly rounds: readonly FleetRound[];
}

const LEASE_MS = { normal: 5_000, killed: 2_000 };

export async function measureFleet(config: BenchConfig): Promise<FleetRow[]> {
  const [servers, redis] = await Promise.all([startFleetServers(), startRedisServer()]);
  const directory = await mkdtemp(join(tmpdir(), 'mcp-oauth-bench-fleet-'));
  try {
    const rows: FleetRow[] = [];
    for (const scenario of FLEET_SCENARIOS) {
      const rounds: FleetRound[] = [];
      for (let round = 0; round < config.fleet.rounds; round++) {
        rounds.push(await fleetOnce(servers, redis, directory, scenario, config, rows.length * 10 + round));
      }
      rows.push({
        scenario,
        processes: config.fleet.processes,
        callsPerProcess: config.fleet.callsPerProcess,
        tokenRequests: median(rounds.map((each) => each.tokenResponses.length)),
        failures: median(rounds.map((each) => each.failed)),
        drainMs: median(rounds.map((each) => each.drainMs)),
        rounds,
      });
    }
    return rows;
  } finally {
    await Promise.all([servers.close(), redis.stop(), rm(directory, { recursive: true, force: true })]);
  }
}

async function fleetOnce(
  servers: FleetServers,
  redis: RedisServer,
  directory: string,
  scenario: FleetScenario,
  config: BenchConfig,
  run: number,
): Promise<FleetRound> {
  const leaseMs = scenario === 'redis, holder killed' ? LEASE_MS.killed : LEASE_MS.normal;
  const store: FleetStore =
    scenario === 'file'
      ? { type: 'file', directory: join(directory, String(run)) }
      : { type: 'redis', url: redis.url, prefix: `bench-fleet-${run}`, leaseMs };
  await seedGrant(servers, store);
  let acted = false;
  const onRefresh: RefreshPolicy | undefined =
    scenario === 'redis, holder killed'
      ? async (event) => {
          if (event.phase !== 'before' || acted) return 'continue';
          acted = true;
          return 'kill';
        }
      : scenario === 'redis, restart'
        ? async (event) => {
            if (event.phase === 'before' && !acted) {
              acted = true;
              await redis.restart();
            }
            return 'continue';
          }
        : undefined;
  const storm = await runStorm(servers, {
    store,
    processes: config.fleet.processes,
    callsPerProcess: config.fleet.callsPerProcess,
    ...(onRefresh === undefined ? {} : { onRefresh }),
    timeoutMs: 120_000,
  });
  return {
    tokenResponses: storm.tokenResponses,
    failed: storm.failed,
    succeeded: storm.succeeded,
    killed: storm.killed,
    drainMs: storm.drainMs,
  };
}
