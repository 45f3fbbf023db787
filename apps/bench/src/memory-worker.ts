// Child process (run with --expose-gc and a large young generation): heap growth and allocation
// per request for one library, bare and through its adapter, against the token server.
import { PerformanceObserver } from 'node:perf_hooks';
import { LIBRARIES, type LibraryName, type Send } from './libraries.js';
import { createSeededSession } from './seeded-session.js';

export interface MemoryInput {
  readonly library: LibraryName;
  readonly url: string;
  readonly token: string;
  readonly requests: number;
  readonly warmupRequests: number;
  readonly allocationWindow: number;
  readonly concurrency: number;
}

export interface MemoryOutput {
  readonly library: LibraryName;
  /** Heap used after forced GC after `requests` requests minus before them, in bytes. */
  readonly adapterGrowth: number;
  readonly bareGrowth: number;
  /** Heap used after the last adapter run, after forced GC. */
  readonly heapAfterBytes: number;
  /** JS heap bytes allocated per request, from windows with no GC inside; `null` when every window saw a GC. */
  readonly adapterAllocation: number | null;
  readonly bareAllocation: number | null;
}

declare const gc: (() => void) | undefined;

let gcCount = 0;
new PerformanceObserver((list) => {
  gcCount += list.getEntries().length;
}).observe({ entryTypes: ['gc'] });

const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

async function settledHeap(): Promise<number> {
  await tick();
  gc!();
  gc!();
  await tick();
  return process.memoryUsage().heapUsed;
}

async function run(send: Send, requests: number, concurrency: number): Promise<void> {
  let left = requests;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left > 0) {
        left--;
        await send();
      }
    }),
  );
}

async function growth(send: Send, input: MemoryInput): Promise<number> {
  const before = await settledHeap();
  await run(send, input.requests, input.concurrency);
  return (await settledHeap()) - before;
}

/** Heap used grows by what is allocated while no GC runs: the median of windows that saw none. */
async function allocation(send: Send, input: MemoryInput): Promise<number | null> {
  const samples: number[] = [];
  for (let window = 0; window < 3; window++) {
    await settledHeap();
    const gcsBefore = gcCount;
    const before = process.memoryUsage().heapUsed;
    await run(send, input.allocationWindow, 1);
    const after = process.memoryUsage().heapUsed;
    await tick();
    if (gcCount === gcsBefore) samples.push((after - before) / input.allocationWindow);
  }
  if (samples.length === 0) return null;
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

async function main(input: MemoryInput): Promise<MemoryOutput> {
  if (typeof gc !== 'function') throw new Error('run with --expose-gc');
  const library = LIBRARIES[input.library];
  const session = await createSeededSession(input.url, input.token, library.httpClient());
  const bare = library.bare(input.url, input.token);
  const adapter = library.authorized(session, input.url);
  await run(bare, input.warmupRequests, input.concurrency);
  await run(adapter, input.warmupRequests, input.concurrency);

  const bareGrowth = await growth(bare, input);
  const adapterGrowth = await growth(adapter, input);
  const heapAfterBytes = await settledHeap();
  return {
    library: input.library,
    adapterGrowth,
    bareGrowth,
    heapAfterBytes,
    bareAllocation: await allocation(bare, input),
    adapterAllocation: await allocation(adapter, input),
  };
}

if (process.argv[2] !== undefined) {
  const result = await main(JSON.parse(process.argv[2]) as MemoryInput);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
