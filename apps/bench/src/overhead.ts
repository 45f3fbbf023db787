/**
 * 1. Per-request overhead with a valid cached token: requests per second through each adapter
 * versus the same library with the header set by hand, against the token server (another process).
 * Each variant runs in a process of its own, as an application has one library sending one way:
 * two variants in one process would share the JIT's type feedback and one heap, and each would pay
 * for the other's garbage. The two processes of a pair take turns, in short blocks that alternate
 * bare and adapter as A B B A A B …, so that drift (other load on the machine, timers) falls on
 * both alike; one request is in flight at a time. Each pair of neighbouring blocks gives one ratio
 * (bare time ÷ adapter time); the table shows the median over every block pair of every process
 * pair, and the lowest and highest process pair (its blocks summed). Several pairs of fresh
 * processes per library, because a process's own JIT and heap layout move its speed a little.
 */
import { randomBytes } from 'node:crypto';
import { type RunningChild, startChild } from './child.js';
import type { BenchConfig } from './config.js';
import { LIBRARY_NAMES, type LibraryName } from './libraries.js';
import type { OverheadWorkerInput, Timing, Variant } from './overhead-worker.js';
import { maximum, median, minimum } from './stats.js';

/**
 * Requests per block: short enough to interleave finely, long enough that a process's turn is not
 * dominated by its waking up (caches, timers) after the other process's turn.
 */
export const OVERHEAD_BLOCK = 50;

export interface OverheadRow {
  readonly library: LibraryName;
  /**
   * Adapter requests/s ÷ bare requests/s: the median over every pair of neighbouring blocks (bare
   * time ÷ adapter time), all process pairs together.
   */
  readonly ratio: number;
  /** The lowest and highest process pair, its blocks summed. */
  readonly ratioMin: number;
  readonly ratioMax: number;
  /** Median over the process pairs of requests per second, one request in flight. */
  readonly adapterRps: number;
  readonly bareRps: number;
  /** Bare CPU time ÷ adapter CPU time, each variant's own process: the median over every pair of blocks. */
  readonly cpuRatio: number;
  /** Median over the process pairs of CPU time per request, in microseconds (the server runs elsewhere). */
  readonly adapterCpuMicros: number;
  readonly bareCpuMicros: number;
  /** Pairs of processes (bare, adapter) started for the library. */
  readonly processPairs: number;
  /** Requests timed per process. */
  readonly requestsPerProcess: number;
}

/** What one pair of processes measured. */
interface PairResult {
  readonly bare: Timing;
  readonly adapter: Timing;
  /** Bare ÷ adapter for each pair of neighbouring blocks. */
  readonly wall: number[];
  readonly cpu: number[];
}

export async function measureOverhead(config: BenchConfig): Promise<OverheadRow[]> {
  const token = randomBytes(24).toString('base64url');
  const server = await startChild<{ url: string }>('./token-server-main.ts', { token });
  try {
    const { processPairs } = config.overhead;
    const results = new Map<LibraryName, PairResult[]>(LIBRARY_NAMES.map((name) => [name, []]));
    // Pair by pair, each library in an order that rotates, so that slow stretches spread over all.
    for (let pair = 0; pair < processPairs; pair++) {
      for (const library of rotate(LIBRARY_NAMES, pair)) {
        const input = { library, url: server.ready.url, token };
        results.get(library)!.push(await measurePair(input, config.overhead, pair));
      }
    }
    return LIBRARY_NAMES.map((library) => summarize(library, results.get(library)!, config));
  } finally {
    await server.stop();
  }
}

async function measurePair(
  input: Omit<OverheadWorkerInput, 'variant'>,
  { requestsPerProcess, warmupRequests }: BenchConfig['overhead'],
  pair: number,
): Promise<PairResult> {
  const workers = {} as Record<Variant, RunningChild<unknown>>;
  try {
    for (const variant of ['bare', 'adapter'] as const) {
      workers[variant] = await startChild('./overhead-worker.ts', { ...input, variant });
    }
    for (let sent = 0; sent < warmupRequests; sent += OVERHEAD_BLOCK) {
      for (const variant of ['bare', 'adapter'] as const) await workers[variant].ask(String(OVERHEAD_BLOCK));
    }
    const result: PairResult = { bare: empty(), adapter: empty(), wall: [], cpu: [] };
    for (let block = 0; result.adapter.requests < requestsPerProcess; block++) {
      const size = Math.min(OVERHEAD_BLOCK, requestsPerProcess - result.adapter.requests);
      // A B B A …: the first of each block pair alternates, and so does the first of each process pair.
      const order: readonly Variant[] = (block + pair) % 2 === 0 ? ['bare', 'adapter'] : ['adapter', 'bare'];
      const timed = {} as Record<Variant, Timing>;
      for (const variant of order) timed[variant] = await workers[variant].ask<Timing>(String(size));
      add(result.bare, timed.bare);
      add(result.adapter, timed.adapter);
      result.wall.push(timed.bare.wall / timed.adapter.wall);
      result.cpu.push(timed.bare.cpu / timed.adapter.cpu);
    }
    return result;
  } finally {
    await Promise.all(Object.values(workers).map((worker) => worker.stop()));
  }
}

function summarize(library: LibraryName, pairs: readonly PairResult[], config: BenchConfig): OverheadRow {
  const pairRatios = pairs.map(({ bare, adapter }) => bare.wall / adapter.wall);
  const perRequest = (variant: Variant, kind: 'wall' | 'cpu') =>
    pairs.map((each) => each[variant][kind] / each[variant].requests);
  return {
    library,
    ratio: median(pairs.flatMap((each) => each.wall)),
    ratioMin: minimum(pairRatios),
    ratioMax: maximum(pairRatios),
    adapterRps: median(perRequest('adapter', 'wall').map((micros) => 1e6 / micros)),
    bareRps: median(perRequest('bare', 'wall').map((micros) => 1e6 / micros)),
    cpuRatio: median(pairs.flatMap((each) => each.cpu)),
    adapterCpuMicros: median(perRequest('adapter', 'cpu')),
    bareCpuMicros: median(perRequest('bare', 'cpu')),
    processPairs: config.overhead.processPairs,
    requestsPerProcess: config.overhead.requestsPerProcess,
  };
}

const empty = (): Timing => ({ wall: 0, cpu: 0, requests: 0 });

function add(into: Timing, block: Timing): void {
  into.wall += block.wall;
  into.cpu += block.cpu;
  into.requests += block.requests;
}

function rotate<T>(values: readonly T[], by: number): T[] {
  const shift = by % values.length;
  return [...values.slice(shift), ...values.slice(0, shift)];
}
