/**
 * 1. Per-request overhead with a valid cached token: requests per second through each adapter
 * versus the same library with the header set by hand, against the token server (another process).
 * Requests go one at a time. In each round, each library (in an order that rotates from round to
 * round) sends its requests in short blocks that alternate bare and adapter as A B B A A B …, so
 * that drift (other load on the machine, timers, GC) falls on both alike. Each pair of neighbouring
 * blocks gives one ratio (bare time ÷ adapter time); the table shows the median over every pair of
 * every round (robust to a block that another process slowed down), and the lowest and highest
 * round (its blocks summed).
 */
import { randomBytes } from 'node:crypto';
import { startChild } from './child.js';
import type { BenchConfig } from './config.js';
import { LIBRARIES, LIBRARY_NAMES, type LibraryName, type Send } from './libraries.js';
import { createSeededSession } from './seeded-session.js';
import { maximum, median, minimum } from './stats.js';

/** Requests per block: short enough to interleave finely, long enough to time. */
const BLOCK = 20;

export interface OverheadRow {
  readonly library: LibraryName;
  /**
   * Adapter requests/s ÷ bare requests/s: the median over every pair of neighbouring blocks (bare
   * time ÷ adapter time), all rounds together.
   */
  readonly ratio: number;
  /** The lowest and highest round, its blocks summed. */
  readonly ratioMin: number;
  readonly ratioMax: number;
  /** Median requests per second, one request in flight. */
  readonly adapterRps: number;
  readonly bareRps: number;
  readonly rounds: number;
  /** Bare CPU time ÷ adapter CPU time, this process only: the median over every pair of blocks. */
  readonly cpuRatio: number;
  /** Median CPU time of this process per request, in microseconds (the server runs elsewhere). */
  readonly adapterCpuMicros: number;
  readonly bareCpuMicros: number;
  /** Requests timed per (library, variant) and round. */
  readonly requestsPerRound: number;
}

type Variant = 'bare' | 'adapter';

/** Wall and CPU time of a number of requests, in microseconds. */
interface Timing {
  wall: number;
  cpu: number;
  requests: number;
}

async function timeBlock(send: Send, requests: number): Promise<Timing> {
  const cpu = process.cpuUsage();
  const wall = performance.now();
  for (let index = 0; index < requests; index++) await send();
  const used = process.cpuUsage(cpu);
  return { wall: (performance.now() - wall) * 1000, cpu: used.user + used.system, requests };
}

function add(into: Timing, block: Timing): void {
  into.wall += block.wall;
  into.cpu += block.cpu;
  into.requests += block.requests;
}

export async function measureOverhead(config: BenchConfig): Promise<OverheadRow[]> {
  const token = randomBytes(24).toString('base64url');
  const server = await startChild<{ url: string }>('./token-server-main.ts', { token });
  try {
    const { url } = server.ready;
    const senders = new Map<LibraryName, Record<Variant, Send>>();
    for (const name of LIBRARY_NAMES) {
      const library = LIBRARIES[name];
      const session = await createSeededSession(url, token, library.httpClient());
      senders.set(name, { bare: library.bare(url, token), adapter: library.authorized(session, url) });
    }
    // Every sender must work before anything is timed.
    for (const pair of senders.values()) {
      await pair.bare();
      await pair.adapter();
    }

    const { rounds, requestsPerRound, warmupRequests } = config.overhead;
    const perRound = new Map<LibraryName, { bare: Timing; adapter: Timing }[]>();
    /** Per library, bare ÷ adapter for each pair of neighbouring blocks: wall and CPU time. */
    const pairs = new Map<LibraryName, { wall: number[]; cpu: number[] }>();
    for (let round = 0; round < rounds; round++) {
      for (const name of rotate(LIBRARY_NAMES, round)) {
        const pair = senders.get(name)!;
        for (let index = 0; index < warmupRequests; index++) {
          await pair.bare();
          await pair.adapter();
        }
        const timing = { bare: { wall: 0, cpu: 0, requests: 0 }, adapter: { wall: 0, cpu: 0, requests: 0 } };
        // A B B A A B …: the first of each pair alternates, and so does the first of each round.
        const ratios = pairs.get(name) ?? { wall: [], cpu: [] };
        for (let block = 0; timing.adapter.requests < requestsPerRound; block++) {
          const size = Math.min(BLOCK, requestsPerRound - timing.adapter.requests);
          const order: readonly Variant[] =
            (block + round) % 2 === 0 ? ['bare', 'adapter'] : ['adapter', 'bare'];
          const blocks = {} as Record<Variant, Timing>;
          for (const variant of order) blocks[variant] = await timeBlock(pair[variant], size);
          add(timing.bare, blocks.bare);
          add(timing.adapter, blocks.adapter);
          ratios.wall.push(blocks.bare.wall / blocks.adapter.wall);
          ratios.cpu.push(blocks.bare.cpu / blocks.adapter.cpu);
        }
        pairs.set(name, ratios);
        perRound.set(name, [...(perRound.get(name) ?? []), timing]);
      }
    }
    return LIBRARY_NAMES.map((name) => {
      const timings = perRound.get(name)!;
      const roundRatios = timings.map(({ bare, adapter }) => bare.wall / adapter.wall);
      const blockRatios = pairs.get(name)!;
      const perRequest = (variant: Variant, kind: 'wall' | 'cpu') =>
        timings.map((each) => each[variant][kind] / each[variant].requests);
      return {
        library: name,
        ratio: median(blockRatios.wall),
        ratioMin: minimum(roundRatios),
        ratioMax: maximum(roundRatios),
        adapterRps: median(perRequest('adapter', 'wall').map((micros) => 1e6 / micros)),
        bareRps: median(perRequest('bare', 'wall').map((micros) => 1e6 / micros)),
        cpuRatio: median(blockRatios.cpu),
        adapterCpuMicros: median(perRequest('adapter', 'cpu')),
        bareCpuMicros: median(perRequest('bare', 'cpu')),
        rounds,
        requestsPerRound,
      };
    });
  } finally {
    await server.stop();
  }
}

function rotate<T>(values: readonly T[], by: number): T[] {
  const shift = by % values.length;
  return [...values.slice(shift), ...values.slice(0, shift)];
}
