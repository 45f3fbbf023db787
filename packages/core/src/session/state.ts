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

/** Interactive step-ups within a sliding window. */
export class StepUpWindow {
  readonly #times: number[] = [];
  constructor(
    readonly max: number,
    readonly windowMs: number,
  ) {}

  recent(now: number): number {
    while (this.#times.length > 0 && this.#times[0]! <= now - this.windowMs) this.#times.shift();
    return this.#times.length;
  }

  record(now: number): void {
    this.#times.push(now);
  }
}

/** The resolved options (the grant as its strategy), and what the session learns and holds. */
export interface SessionState extends Omit<SessionConfig, 'grant' | 'dpop' | 'stepUps'> {
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
  readonly stepUps: StepUpWindow;
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
    stepUps: new StepUpWindow(config.stepUps.max, config.stepUps.windowMs),
    now,
  };
}
