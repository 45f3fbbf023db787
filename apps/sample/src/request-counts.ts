/**
 * Requests per endpoint, per step. Against the embedded demo server they are counted where they
 * arrive, so every round trip shows — the browser's trips to the authorization endpoint and each
 * MCP request and retry included. Against another server only the engine's own requests can be
 * seen (from its log); authorizations are counted as trips to the browser, MCP requests not at all.
 */
import type { DemoRequestEvent, DemoServerStats } from '@mcp-oauth/demo-server';
import type { EngineLog } from './engine-log.js';

export const ENDPOINTS = ['prm', 'asMetadata', 'register', 'authorize', 'token', 'revoke', 'mcp'] as const;
export type Endpoint = (typeof ENDPOINTS)[number];

/** `undefined`: not observable in this mode. */
export type RequestCounts = Readonly<Record<Endpoint, number | undefined>>;

export const ENDPOINT_LABELS: Readonly<Record<Endpoint, string>> = {
  prm: 'PRM',
  asMetadata: 'AS metadata',
  register: 'register',
  authorize: 'authorize',
  token: 'token',
  revoke: 'revoke',
  mcp: 'MCP',
};

export interface RequestCounter {
  /** A position to count from; waits until every request received so far has been answered. */
  mark(): Promise<number>;
  since(position: number): RequestCounts;
}

/** `PRM 1 · AS metadata 1 · token 2`, the endpoints that were asked. */
export function formatCounts(counts: RequestCounts): string {
  return ENDPOINTS.filter((endpoint) => (counts[endpoint] ?? 0) > 0)
    .map((endpoint) => `${ENDPOINT_LABELS[endpoint]} ${counts[endpoint]}`)
    .join(' · ');
}

/** Counts at the embedded demo server, from its `onRequest` events. */
export class ServerRequestLog implements RequestCounter {
  readonly #events: DemoRequestEvent[] = [];
  #stats: (() => DemoServerStats) | undefined;

  /** Pass as the demo server's `onRequest`. */
  readonly record = (event: DemoRequestEvent): void => {
    this.#events.push(event);
  };

  /** The demo server's `stats`: it counts each request on arrival, `onRequest` once answered. */
  attach(stats: () => DemoServerStats): void {
    this.#stats = stats;
  }

  async mark(): Promise<number> {
    const deadline = Date.now() + 2_000;
    while (this.#received() > this.#events.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return this.#events.length;
  }

  since(position: number): RequestCounts {
    const events = this.#events.slice(position);
    const count = (test: (event: DemoRequestEvent) => boolean) => events.filter(test).length;
    return {
      prm: count((event) => event.endpoint === 'protectedResourceMetadata'),
      asMetadata: count((event) => event.endpoint === 'authorizationServerMetadata'),
      register: count((event) => event.endpoint === 'registration'),
      // Authorization requests proper; oidc-provider's own hops (`/authorize/<id>`, the
      // interaction pages) belong to the same authorization.
      authorize: count((event) => event.endpoint === 'authorize' && event.path === '/authorize'),
      token: count((event) => event.endpoint === 'token'),
      revoke: count((event) => event.endpoint === 'revocation'),
      mcp: count((event) => event.endpoint === 'mcp'),
    };
  }

  #received(): number {
    const stats = this.#stats?.();
    return stats === undefined ? 0 : Object.values(stats).reduce((sum, value) => sum + value, 0);
  }
}

const PRM_PATH = '/.well-known/oauth-protected-resource';
const AS_METADATA_PATHS = ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration'];

/** Counts from the engine's log, for a server that is not ours to watch. */
export class EngineRequestCounter implements RequestCounter {
  readonly #log: EngineLog;

  constructor(log: EngineLog) {
    this.#log = log;
  }

  async mark(): Promise<number> {
    return this.#log.length;
  }

  since(position: number): RequestCounts {
    const counts = { prm: 0, asMetadata: 0, register: 0, authorize: 0, token: 0, revoke: 0 };
    // The engine logs `token.request` / `token.revoke` just before the HTTP request they make.
    let announced: 'token' | 'revoke' | undefined;
    for (const { event, data } of this.#log.since(position)) {
      if (event === 'token.request') announced = 'token';
      else if (event === 'token.revoke') announced = 'revoke';
      else if (event === 'session.authorization_started') counts.authorize++;
      else if (event === 'http.request') {
        const path = URL.canParse(String(data.url)) ? new URL(String(data.url)).pathname : '';
        if (path.includes(PRM_PATH)) counts.prm++;
        else if (AS_METADATA_PATHS.some((wellKnown) => path.includes(wellKnown))) counts.asMetadata++;
        else if (announced !== undefined) counts[announced]++;
        else if (data.method === 'POST') counts.register++;
        announced = undefined;
      }
    }
    return { ...counts, mcp: undefined };
  }
}
