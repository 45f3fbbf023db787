/**
 * Every client the storm and round-trip measurements drive, against a testkit server whose
 * resource answers MCP (mcp-responder.ts):
 *
 * - `fetch`, `ky`, `axios`, `got`: an mcp-oauth session through that library's adapter, POSTing a
 *   JSON-RPC `tools/call` to the MCP endpoint; authorization runs inside the first request.
 * - `sdk-v1+mcp-oauth`, `sdk-v2+mcp-oauth`: the official SDK `Client` over its
 *   `StreamableHTTPClientTransport` with `fetch: withOAuth(fetch, session)` and no `authProvider`, as the
 *   @mcp-oauth/fetch README shows.
 * - `sdk-v1`, `sdk-v2`: the official SDK `Client` over `StreamableHTTPClientTransport` with an
 *   `authProvider` (sdk-providers.ts), driven as the SDK documents it: `connect()` fails with
 *   `UnauthorizedError` after `redirectToAuthorization`; the application gets the callback,
 *   calls `transport.finishAuth(…)` and connects again with a new transport.
 *
 * A client starts empty (cold) or from the persisted state of an earlier one (warm).
 */
import { OAuthSession } from '@mcp-oauth/core';
import { createFetchHttpClient, withOAuth } from '@mcp-oauth/fetch';
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as StreamableHTTPClientTransportV2,
} from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as StreamableHTTPClientTransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { approve, CLIENT_NAME, REDIRECT_URI } from './approve.js';
import { LIBRARIES, type LibraryName } from './libraries.js';
import { type ProviderState, SdkV1Provider, SdkV2Provider } from './sdk-providers.js';
import { createSnapshotStores, type StoresSnapshot } from './snapshot-stores.js';

export const CLIENT_KINDS = [
  'fetch',
  'ky',
  'axios',
  'got',
  'sdk-v1+mcp-oauth',
  'sdk-v2+mcp-oauth',
  'sdk-v1',
  'sdk-v2',
] as const;
export type ClientKind = (typeof CLIENT_KINDS)[number];

export const CLIENT_LABELS: Readonly<Record<ClientKind, string>> = {
  fetch: 'mcp-oauth fetch',
  ky: 'mcp-oauth ky',
  axios: 'mcp-oauth axios',
  got: 'mcp-oauth got',
  'sdk-v1+mcp-oauth': 'SDK v1 Client + mcp-oauth fetch',
  'sdk-v2+mcp-oauth': 'SDK v2 Client + mcp-oauth fetch',
  'sdk-v1': 'SDK v1 authProvider',
  'sdk-v2': 'SDK v2 authProvider',
};

export const isOurs = (kind: ClientKind) => kind !== 'sdk-v1' && kind !== 'sdk-v2';

export type PersistedState =
  | { readonly kind: 'session'; readonly stores: StoresSnapshot }
  | { readonly kind: 'provider'; readonly provider: ProviderState };

export interface ClientOptions {
  readonly mcpUrl: string;
  /** Start from what an earlier client persisted (a restart); empty stores otherwise. */
  readonly persisted?: PersistedState | undefined;
  /** The session's clock (mcp-oauth only: the SDK clients do not track expiry). */
  readonly clock?: () => number;
}

export interface BenchClient {
  readonly kind: ClientKind;
  /** The first authorized call, authorizing the way the client's docs describe when it must. */
  connect(): Promise<void>;
  /** One authorized MCP call (after `connect`). */
  call(): Promise<void>;
  /** Times the client needed the user (an authorization handler call or a redirect). */
  readonly prompts: number;
  persist(): PersistedState;
  close(): Promise<void>;
}

/** What both SDK generations' `Client` offer that the bench uses. */
interface SdkClient {
  connect(transport: never): Promise<void>;
  callTool(params: { name: string; arguments: Record<string, unknown> }): Promise<unknown>;
  close(): Promise<void>;
}

const ECHO = { name: 'echo', arguments: { text: 'hello' } };

export function createClient(kind: ClientKind, options: ClientOptions): BenchClient {
  switch (kind) {
    case 'sdk-v1':
    case 'sdk-v2':
      return createSdkClient(kind, options);
    case 'sdk-v1+mcp-oauth':
    case 'sdk-v2+mcp-oauth':
      return createSdkWithSession(kind, options);
    default:
      return createAdapterClient(kind, options);
  }
}

function createSession(library: LibraryName, options: ClientOptions) {
  const persisted = options.persisted?.kind === 'session' ? options.persisted.stores : undefined;
  const { stores, snapshot } = createSnapshotStores(persisted);
  let prompts = 0;
  const session = new OAuthSession({
    serverUrl: options.mcpUrl,
    httpClient: library === 'fetch' ? createFetchHttpClient() : LIBRARIES[library].httpClient(),
    client: { clientName: CLIENT_NAME, redirectUris: [REDIRECT_URI] },
    authorizationHandler: ({ authorizationUrl }) => {
      prompts++;
      return approve(authorizationUrl);
    },
    stores,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
  return {
    session,
    prompts: () => prompts,
    persist: (): PersistedState => ({ kind: 'session', stores: snapshot() }),
  };
}

function createAdapterClient(library: LibraryName, options: ClientOptions): BenchClient {
  const { session, prompts, persist } = createSession(library, options);
  const send = LIBRARIES[library].authorized(session, options.mcpUrl);
  return {
    kind: library,
    connect: send,
    call: send,
    get prompts() {
      return prompts();
    },
    persist,
    close: async () => {},
  };
}

function newSdkClient(kind: 'sdk-v1' | 'sdk-v2' | 'sdk-v1+mcp-oauth' | 'sdk-v2+mcp-oauth'): SdkClient {
  const info = { name: CLIENT_NAME, version: '0.0.0' };
  return (kind.startsWith('sdk-v1') ? new ClientV1(info) : new ClientV2(info)) as unknown as SdkClient;
}

function createSdkWithSession(kind: 'sdk-v1+mcp-oauth' | 'sdk-v2+mcp-oauth', options: ClientOptions) {
  const { session, prompts, persist } = createSession('fetch', options);
  const url = new URL(options.mcpUrl);
  const client = newSdkClient(kind);
  const oauthFetch = withOAuth(globalThis.fetch, session);
  return {
    kind,
    connect: () =>
      client.connect(
        (kind === 'sdk-v1+mcp-oauth'
          ? new StreamableHTTPClientTransportV1(url, { fetch: oauthFetch })
          : new StreamableHTTPClientTransportV2(url, { fetch: oauthFetch })) as never,
      ),
    call: async () => {
      await client.callTool(ECHO);
    },
    get prompts() {
      return prompts();
    },
    persist,
    close: () => client.close(),
  } satisfies BenchClient;
}

function createSdkClient(kind: 'sdk-v1' | 'sdk-v2', options: ClientOptions): BenchClient {
  const url = new URL(options.mcpUrl);
  const state = options.persisted?.kind === 'provider' ? options.persisted.provider : {};
  // The application's side of redirectToAuthorization: during connect() the user approves at once
  // and the callback is kept for finishAuth; at any other time the prompt is only counted.
  let approving = false;
  let callback: Promise<string> | undefined;
  const onRedirect = (authorizationUrl: URL) => {
    if (approving) callback = approve(authorizationUrl.href);
  };
  const provider =
    kind === 'sdk-v1' ? new SdkV1Provider(state, onRedirect) : new SdkV2Provider(state, onRedirect);
  const transport = () =>
    kind === 'sdk-v1'
      ? new StreamableHTTPClientTransportV1(url, { authProvider: provider as SdkV1Provider })
      : new StreamableHTTPClientTransportV2(url, { authProvider: provider as SdkV2Provider });
  let client = newSdkClient(kind);
  return {
    kind,
    async connect() {
      const first = transport();
      approving = true;
      try {
        await client.connect(first as never);
        return;
      } catch (error) {
        if (callback === undefined) throw error;
      } finally {
        approving = false;
      }
      const redirect = new URL(await callback);
      callback = undefined;
      if (redirect.searchParams.get('state') !== provider.lastState) throw new Error('state mismatch');
      if (first instanceof StreamableHTTPClientTransportV1) {
        await first.finishAuth(redirect.searchParams.get('code') ?? '');
      } else {
        await first.finishAuth(redirect.searchParams);
      }
      await client.close();
      client = newSdkClient(kind);
      await client.connect(transport() as never);
    },
    async call() {
      await client.callTool(ECHO);
    },
    get prompts() {
      return provider.redirects.length;
    },
    persist: () => ({ kind: 'provider', provider: provider.snapshot() }),
    close: () => client.close(),
  };
}
