/** Runs the measurements in order and collects their results. */
import { measureBundles } from './bundle-size.js';
import { measureCodeSize } from './code-size.js';
import type { BenchConfig } from './config.js';
import { measureFleet } from './fleet.js';
import { describeMachine } from './machine.js';
import { measureMemory } from './memory.js';
import { measureOverhead } from './overhead.js';
import { MEASUREMENTS, type Measurement, type Results, type Targets } from './results.js';
import { COLD_MINIMUM, measureRoundTrips, WARM_EXPIRED_MINIMUM, WARM_MINIMUM } from './round-trips.js';
import { measureStorms } from './storm.js';

export const TARGETS: Targets = {
  overheadRatio: 0.97,
  stormTokenRequests: 1,
  stormFailures: 0,
  roundTripMinimum: { cold: COLD_MINIMUM, warm: WARM_MINIMUM, warmExpired: WARM_EXPIRED_MINIMUM },
  commonPathGzipBytes: 10 * 1024,
};

export interface RunOptions {
  readonly only?: readonly Measurement[];
  /** Progress lines (the table goes to stdout; progress to stderr). */
  readonly log?: (line: string) => void;
}

export async function runBenchmarks(config: BenchConfig, options: RunOptions = {}): Promise<Results> {
  const selected = new Set(options.only ?? MEASUREMENTS);
  const log = options.log ?? (() => {});
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const step = async <T>(name: Measurement, task: () => Promise<T>): Promise<T | undefined> => {
    if (!selected.has(name)) return undefined;
    const begin = performance.now();
    log(`${name}…`);
    const result = await task();
    log(`${name}: ${((performance.now() - begin) / 1000).toFixed(1)} s`);
    return result;
  };
  const overhead = await step('overhead', () => measureOverhead(config));
  const storm = await step('storm', () => measureStorms(config));
  const roundTrips = await step('roundTrips', () => measureRoundTrips());
  const bundle = await step('bundle', () => measureBundles());
  const memory = await step('memory', () => measureMemory(config));
  const fleet = await step('fleet', () => measureFleet(config));
  const code = await step('code', async () => measureCodeSize());
  return {
    schema: 1,
    mode: config.mode,
    startedAt,
    durationMs: performance.now() - started,
    machine: describeMachine(),
    config,
    targets: TARGETS,
    ...(overhead === undefined ? {} : { overhead }),
    ...(storm === undefined ? {} : { storm }),
    ...(roundTrips === undefined ? {} : { roundTrips }),
    ...(bundle === undefined ? {} : { bundle }),
    ...(memory === undefined ? {} : { memory }),
    ...(fleet === undefined ? {} : { fleet }),
    ...(code === undefined ? {} : { code }),
  };
}
