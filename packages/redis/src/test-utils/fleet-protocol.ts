/** What the fleet harness and its worker processes say to each other over IPC. */

export type FleetStore =
  | { readonly type: 'redis'; readonly url: string; readonly prefix: string; readonly leaseMs: number }
  | { readonly type: 'file'; readonly directory: string };

export interface WorkerConfig {
  readonly store: FleetStore;
  readonly serverUrl: string;
  readonly calls: number;
  /** Ask the harness before sending a refresh grant and after its response (to kill or pause there). */
  readonly reportRefreshes: boolean;
}

/** The client every process of a fleet presents (the harness registers it when it seeds the grant). */
export const FLEET_CLIENT = {
  clientName: 'mcp-oauth fleet test',
  redirectUris: ['http://127.0.0.1:49999/callback'],
  tokenEndpointAuthMethod: 'none',
} as const;

export interface WorkerResult {
  readonly succeeded: number;
  /** Failed calls by reason: an error code, or `http_<status>`. */
  readonly failures: Readonly<Record<string, number>>;
  /** The engine's log events, counted (`session.refresh_token_rejected`, …). */
  readonly events: Readonly<Record<string, number>>;
}

export type ToWorker =
  | { readonly type: 'go' }
  | { readonly type: 'continue'; readonly id: number }
  | { readonly type: 'authorized'; readonly id: number; readonly callbackUrl: string };

export type FromWorker =
  | { readonly type: 'ready' }
  | {
      readonly type: 'refresh';
      readonly id: number;
      readonly phase: 'before' | 'after';
      readonly status?: number;
    }
  | { readonly type: 'authorize'; readonly id: number; readonly authorizationUrl: string }
  | { readonly type: 'done'; readonly result: WorkerResult };
