/**
 * 1. Per-request overhead with a valid cached token: requests per second through each adapter
 * versus the same library with the header set by hand, against the token server (another process).
 * Requests go one at a time. Each round is one tinybench run of a fixed number of requests per
 * (library, variant), in an order that alternates between rounds (bare first, then adapter first)
 * and rotates the libraries, so that drift hits both variants alike; the ratio is taken within
 * each round, and the table shows the median over many short rounds.
 */
import { randomBytes } from 'node:crypto';
import { Bench } from 'tinybench';
import { startChild } from './child.js';
import type { BenchConfig } from './config.js';
import { LIBRARIES, LIBRARY_NAMES, type LibraryName, type Send } from './libraries.js';
import { createSeededSession } from './seeded-session.js';
import { maximum, median, minimum } from './stats.js';

export interface OverheadRow {
  readonly library: LibraryName;
  /** Median over rounds of (adapter requests/s ÷ bare requests/s) measured in the same round. */
  readonly ratio: number;
  readonly ratioMin: number;
  readonly ratioMax: number;
  /** Median requests per second, one request in flight. */
  readonly adapterRps: number;
  readonly bareRps: number;
  readonly rounds: number;
  /** Median over rounds of (bare CPU time per request ÷ adapter CPU time per request), this process only. */
  readonly cpuRatio: number;
  /** Median CPU time of this process per request, in microseconds (the server runs elsewhere). */
  readonly adapterCpuMicros: number;
  readonly bareCpuMicros: number;
  /** Requests timed per (library, variant) and round. */
  readonly requestsPerRound: number;
}

type Variant = 'bare' | 'adapter';

export async function measureOverhead(config: BenchConfig): Promise<OverheadRow[]> {
  const token = randomBytes(24).toString('base64url');
  const server = await startChild<{ url: string }>('./token-server-main.ts', { token });
  try {
    const { url } = server.ready;
    const senders = new Map<string, Send>();
    for (const name of LIBRARY_NAMES) {
      const library = LIBRARIES[name];
      const session = await createSeededSession(url, token, library.httpClient());
      senders.set(`${name}:bare`, library.bare(url, token));
      senders.set(`${name}:adapter`, library.authorized(session, url));
    }
    // Every sender must work before anything is timed.
    for (const send of senders.values()) await send();

    const samples = new Map<string, { rps: number[]; cpu: number[] }>();
    const ratios = new Map<LibraryName, { rps: number[]; cpu: number[] }>();
    for (let round = 0; round < config.overhead.rounds; round++) {
      const bench = new Bench({
        iterations: config.overhead.requestsPerRound,
        time: 0,
        warmupIterations: config.overhead.warmupRequests,
        warmupTime: 0,
        throws: true,
      });
      const libraries = rotate(LIBRARY_NAMES, round);
      const variants: readonly Variant[] = round % 2 === 0 ? ['bare', 'adapter'] : ['adapter', 'bare'];
      const cpuMicros = new Map<string, number>();
      for (const name of libraries) {
        for (const variant of variants) {
          const key = `${name}:${variant}`;
          let start: NodeJS.CpuUsage | undefined;
          bench.add(key, senders.get(key)!, {
            beforeAll: (mode) => {
              if (mode === 'run') start = process.cpuUsage();
            },
            afterAll: (mode) => {
              if (mode !== 'run' || start === undefined) return;
              const used = process.cpuUsage(start);
              cpuMicros.set(key, (used.user + used.system) / config.overhead.requestsPerRound);
            },
          });
        }
      }
      await bench.run();
      const roundRps = new Map<string, number>();
      for (const task of bench.tasks) {
        const result = task.result;
        if (result.state !== 'completed') throw new Error(`overhead task ${task.name} did not complete`);
        const rps = 1000 / result.period;
        roundRps.set(task.name, rps);
        const entry = samples.get(task.name) ?? { rps: [], cpu: [] };
        entry.rps.push(rps);
        entry.cpu.push(cpuMicros.get(task.name)!);
        samples.set(task.name, entry);
      }
      for (const name of LIBRARY_NAMES) {
        const entry = ratios.get(name) ?? { rps: [], cpu: [] };
        entry.rps.push(roundRps.get(`${name}:adapter`)! / roundRps.get(`${name}:bare`)!);
        entry.cpu.push(cpuMicros.get(`${name}:bare`)! / cpuMicros.get(`${name}:adapter`)!);
        ratios.set(name, entry);
      }
    }
    return LIBRARY_NAMES.map((name) => {
      const adapter = samples.get(`${name}:adapter`)!;
      const bare = samples.get(`${name}:bare`)!;
      const ratio = ratios.get(name)!;
      return {
        library: name,
        ratio: median(ratio.rps),
        ratioMin: minimum(ratio.rps),
        ratioMax: maximum(ratio.rps),
        adapterRps: median(adapter.rps),
        bareRps: median(bare.rps),
        cpuRatio: median(ratio.cpu),
        adapterCpuMicros: median(adapter.cpu),
        bareCpuMicros: median(bare.cpu),
        rounds: config.overhead.rounds,
        requestsPerRound: config.overhead.requestsPerRound,
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
