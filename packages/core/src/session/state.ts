/**
 * What one session knows, in one place: the resolved options, the binding to an authorization
 * server and client, the tokens, and the bookkeeping of renewals, DPoP and step-ups. The modules
 * beside this file are functions over it, one concept each.
 */

import type { JwtSigner } from '../client-auth.js';
import { createHttpContext, type HttpContext } from '../http.js';
import type { DiscoveryRecord, StoredTokens } from '../stores.js';
import type { ClientInformation } from '../types.js';
import type { DpopSession } from './dpop-support.js';
import type { GrantStrategy } from './grants.js';
import type { SessionConfig } from './options.js';

/** Discovery plus the client for one issuer: what tokens are obtained under. */
export interface Binding {
  readonly discovery: DiscoveryRecord;
  readonly client: ClientInformation;
}

/** The interactive step-ups of the current window (the `stepUps` option's sliding window). */
export function recentStepUps(state: SessionState): number {
  const times = state.stepUpTimes;
  while (times.length > 0 && times[0]! <= state.now() - state.stepUps.windowMs) times.shift();
  return times.length;
}

/** The resolved options (the grant as its strategy), and what the session learns and holds. */
export interface SessionState extends Omit<SessionConfig, 'grant' | 'dpop'> {
  readonly grant: GrantStrategy;
  readonly http: HttpContext;
  /** The binding in use, once discovery and client resolution ran (or were loaded from the stores). */
  binding?: Binding | undefined;
  /** A discovery and registration in progress, shared by concurrent first requests. */
  bindingInFlight?: Promise<Binding> | undefined;
  /** Loading what the stores remember, once. */
  loaded?: Promise<void> | undefined;
  /** {@link loaded} has settled without an error: requests need not wait for it. */
  storesLoaded?: boolean;
  /** The current tokens under {@link binding}. */
  tokens?: StoredTokens | undefined;
  /** Token operations in progress, per token key (single flight). */
  readonly renewals: Map<string, Promise<StoredTokens>>;
  /** The session's DPoP (its key and nonces), when the `dpop` option is set. */
  readonly dpop: DpopSession | undefined;
  signer?: Promise<JwtSigner> | undefined;
  /** When each interactive step-up ran, oldest first. */
  readonly stepUpTimes: number[];
  /** The `resource_metadata` URL of the latest challenge, for a discovery the application starts. */
  lastResourceMetadataUrl?: string | undefined;
  /** Milliseconds since the epoch, from the `clock` option. */
  now(): number;
}

export function createSessionState(config: SessionConfig, grant: GrantStrategy): SessionState {
  const now = () => config.clock();
  return {
    ...config,
    grant,
    // An absent timeout or size limit is `undefined` there, which means the default.
    http: createHttpContext(config.httpClient, config as Parameters<typeof createHttpContext>[1]),
    renewals: new Map(),
    dpop: config.dpop?.start(now),
    stepUpTimes: [],
    now,
  };
}
