/** What a run produces: the contents of results.json. */
import type { BundleResults } from './bundle-size.js';
import type { CodeSizeResults } from './code-size.js';
import type { BenchConfig } from './config.js';
import type { EndpointCounts } from './endpoints.js';
import type { FleetRow } from './fleet.js';
import type { Machine } from './machine.js';
import type { MemoryRow } from './memory.js';
import type { OverheadRow } from './overhead.js';
import type { RoundTripRow } from './round-trips.js';
import type { StormRow } from './storm.js';

export const MEASUREMENTS = ['overhead', 'storm', 'roundTrips', 'bundle', 'memory', 'fleet', 'code'] as const;
export type Measurement = (typeof MEASUREMENTS)[number];

/** The targets, reported against, never asserted. */
export interface Targets {
  readonly overheadRatio: number;
  readonly stormTokenRequests: number;
  readonly stormFailures: number;
  readonly roundTripMinimum: {
    readonly cold: EndpointCounts;
    readonly warm: EndpointCounts;
    readonly warmExpired: EndpointCounts;
  };
  /** The common path (`OAuthSession` + `withOAuth`) of every adapter, min+gzip. */
  readonly commonPathGzipBytes: number;
}

export interface Results {
  readonly schema: 1;
  readonly mode: BenchConfig['mode'];
  readonly startedAt: string;
  readonly durationMs: number;
  readonly machine: Machine;
  readonly config: BenchConfig;
  readonly targets: Targets;
  readonly overhead?: readonly OverheadRow[];
  readonly storm?: readonly StormRow[];
  readonly roundTrips?: readonly RoundTripRow[];
  readonly bundle?: BundleResults;
  readonly memory?: readonly MemoryRow[];
  readonly fleet?: readonly FleetRow[];
  readonly code?: CodeSizeResults;
}
