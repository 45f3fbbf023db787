/** How much work each measurement does: the full run, or the smoke run that only keeps the code alive. */
export interface BenchConfig {
  readonly mode: 'full' | 'smoke';
  readonly overhead: {
    /** Pairs of fresh processes (bare, adapter) per library, taking turns in interleaved blocks. */
    readonly processPairs: number;
    /** Requests each process times, one at a time, after its untimed warm-up ones. */
    readonly requestsPerProcess: number;
    readonly warmupRequests: number;
  };
  readonly storm: {
    /** Requests fired at once at an expired or revoked token. */
    readonly concurrency: number;
    readonly rounds: number;
  };
  readonly fleet: {
    /** Processes sharing one grant through a store, and the calls each makes at once. */
    readonly processes: number;
    readonly callsPerProcess: number;
    readonly rounds: number;
  };
  readonly memory: {
    /** Authorized requests between the two forced-GC heap readings. */
    readonly requests: number;
    readonly warmupRequests: number;
    /** Requests per window of the allocation estimate (no GC may run inside a window). */
    readonly allocationWindow: number;
    /** Requests in flight at once. */
    readonly concurrency: number;
  };
}

export const FULL: BenchConfig = {
  mode: 'full',
  overhead: { processPairs: 3, requestsPerProcess: 1000, warmupRequests: 3000 },
  storm: { concurrency: 1000, rounds: 3 },
  fleet: { processes: 8, callsPerProcess: 250, rounds: 3 },
  memory: { requests: 10_000, warmupRequests: 500, allocationWindow: 200, concurrency: 8 },
};

export const SMOKE: BenchConfig = {
  mode: 'smoke',
  overhead: { processPairs: 1, requestsPerProcess: 20, warmupRequests: 20 },
  storm: { concurrency: 20, rounds: 1 },
  fleet: { processes: 2, callsPerProcess: 10, rounds: 1 },
  memory: { requests: 200, warmupRequests: 50, allocationWindow: 50, concurrency: 4 },
};
