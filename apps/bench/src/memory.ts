/**
 * 5. Memory: for each library, a child process with `--expose-gc` sends `requests` authorized
 * requests (through the adapter) and as many bare ones, to the token server, and reads the heap
 * after forced GCs before and after each batch: the growth per request is any memory the adapter
 * keeps per request (target: none beyond noise). The bare library's batch, in the same process,
 * is the reference: what the library itself holds for a while (ky's 10 s timeout timers, for one)
 * and how far apart two readings land.
 * The same child estimates allocation per request (JS heap, GC-free windows of a large young
 * generation), i.e. the garbage each request makes.
 */
import { randomBytes } from 'node:crypto';
import { runWorker, startChild } from './child.js';
import type { BenchConfig } from './config.js';
import { LIBRARY_NAMES, type LibraryName } from './libraries.js';
import type { MemoryInput, MemoryOutput } from './memory-worker.js';

export interface MemoryRow {
  readonly library: LibraryName;
  readonly requests: number;
  /** Heap growth per request across a batch, after forced GC, in bytes. */
  readonly adapterGrowthPerRequest: number;
  /** The same for the bare library: what the library itself retains for a while, and the noise floor. */
  readonly bareGrowthPerRequest: number;
  readonly heapAfterBytes: number;
  readonly adapterAllocationPerRequest: number | null;
  readonly bareAllocationPerRequest: number | null;
}

const WORKER_FLAGS = ['--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64'];

export async function measureMemory(config: BenchConfig): Promise<MemoryRow[]> {
  const token = randomBytes(24).toString('base64url');
  const server = await startChild<{ url: string }>('./token-server-main.ts', { token });
  try {
    const rows: MemoryRow[] = [];
    for (const library of LIBRARY_NAMES) {
      const input: MemoryInput = { library, url: server.ready.url, token, ...config.memory };
      const output = await runWorker<MemoryOutput>('./memory-worker.ts', input, WORKER_FLAGS);
      const perRequest = (bytes: number) => bytes / config.memory.requests;
      rows.push({
        library,
        requests: config.memory.requests,
        adapterGrowthPerRequest: perRequest(output.adapterGrowth),
        bareGrowthPerRequest: perRequest(output.bareGrowth),
        heapAfterBytes: output.heapAfterBytes,
        adapterAllocationPerRequest: output.adapterAllocation,
        bareAllocationPerRequest: output.bareAllocation,
      });
    }
    return rows;
  } finally {
    await server.stop();
  }
}
