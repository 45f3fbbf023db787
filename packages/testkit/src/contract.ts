/**
 * The adapter contract: one suite every adapter package runs against real servers on 127.0.0.1.
 * Each test starts a fresh test server (resource + authorization server), an echo server on another
 * origin, and a fresh `OAuthSession` whose own OAuth traffic goes through the adapter's
 * `OAuthHttpClient`; then it drives the adapter's client and asserts what went over the wire.
 */

import { inspect } from 'node:util';
import {
  isOAuthClientError,
  type OAuthClientError,
  type OAuthClientErrorCode,
  type OAuthHttpClient,
  type OAuthHttpRequest,
  OAuthSession,
  type OAuthSessionOptions,
} from '@mcp-oauth/core';
import { dpop as createDpop } from '@mcp-oauth/core/dpop';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BODY_KINDS, createContractBody } from './bodies.js';
import { type EchoServer, startEchoServer } from './echo-server.js';
import { jsonReply, type RecordedRequest } from './recording.js';
import { startTestServer, type TestServer, type TestServerOptions } from './server.js';
import type {
  AdapterClient,
  AdapterHarness,
  BodyKind,
  ContractRequest,
  ContractResponse,
  HarnessOptions,
} from './types.js';

const TOKEN_LIFETIME_SECONDS = 3600;
const PAST_EXPIRY_MS = (TOKEN_LIFETIME_SECONDS + 60) * 1000;
const CONCURRENT_REQUESTS = 20;
const PRM_PATH = '/.well-known/oauth-protected-resource/mcp';

interface SetupOptions {
  readonly server?: TestServerOptions;
  readonly session?: Partial<OAuthSessionOptions>;
  readonly harness?: HarnessOptions;
}

interface Setup {
  readonly server: TestServer;
  readonly echo: EchoServer;
  readonly session: OAuthSession;
  readonly client: AdapterClient;
  /** Moves the session's clock (not the server's) forward. */
  advanceClock(milliseconds: number): void;
  get(url: string, extra?: Partial<ContractRequest>): Promise<ContractResponse>;
}

// ---------------------------------------------------------------------------------------------
// assertion helpers

/** The thrown value, or one it wraps in `cause` (libraries may wrap what a hook throws). */
function findOAuthError(error: unknown): OAuthClientError | undefined {
  let current = error;
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth++) {
    if (isOAuthClientError(current)) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** True when `code` is the error's code or that of an engine error it was caused by. */
function hasCode(error: unknown, code: OAuthClientErrorCode): boolean {
  for (let current = findOAuthError(error); current !== undefined; current = current.cause) {
    if (current.code === code) return true;
  }
  return false;
}

function isAbortLike(error: unknown): boolean {
  let current = error;
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth++) {
    if (isOAuthClientError(current, 'aborted')) return true;
    const { name, code } = current as { name?: unknown; code?: unknown };
    if (name === 'AbortError' || name === 'CanceledError') return true;
    if (code === 'ABORT_ERR' || code === 'ERR_CANCELED' || code === 'ERR_ABORTED') return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** `JSON.stringify`, as a logger would call it; a value that cannot be serialised gives ''. */
function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return '';
  }
}

function expectStatus(response: ContractResponse, status: number): void {
  if (response.error !== undefined) {
    throw new Error(`expected HTTP ${status}, but the request failed: ${describeError(response.error)}`, {
      cause: response.error,
    });
  }
  expect(response.status).toBe(status);
}

function expectFailure(response: ContractResponse): unknown {
  if (response.error === undefined) {
    throw new Error(`expected the request to fail, but it answered HTTP ${response.status}`);
  }
  return response.error;
}

function describeError(error: unknown): string {
  const found = findOAuthError(error);
  if (found !== undefined) return `OAuthClientError ${found.code}: ${found.message}`;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

function boundaryOf(record: RecordedRequest): string | undefined {
  return /boundary=("?)([^";]+)\1/i.exec(record.headers['content-type'] ?? '')?.[2];
}

/** A multipart body with its (library-chosen) boundary blanked out. */
function withoutBoundary(record: RecordedRequest): { contentType: string; body: string } {
  const boundary = boundaryOf(record) ?? '\u0000';
  const text = Buffer.from(record.body).toString('latin1');
  return {
    contentType: (record.headers['content-type'] ?? '').replaceAll(boundary, 'BOUNDARY'),
    body: text.replaceAll(boundary, 'BOUNDARY'),
  };
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack).includes(Buffer.from(needle));
}

const range = (count: number) => Array.from({ length: count }, (_, index) => index);

function oauthRequest(
  overrides: Partial<OAuthHttpRequest> & Pick<OAuthHttpRequest, 'url'>,
): OAuthHttpRequest {
  return {
    method: 'GET',
    headers: {},
    redirect: 'never',
    timeoutMs: 10_000,
    maxResponseBytes: 1024 * 1024,
    signal: new AbortController().signal,
    ...overrides,
  };
}

async function sendDirect(client: OAuthHttpClient, request: OAuthHttpRequest) {
  try {
    return { response: await client.send(request) };
  } catch (error) {
    return { error };
  }
}

// ---------------------------------------------------------------------------------------------

/** Registers the contract suite (vitest `describe`/`it`) for one adapter. */
export function describeAdapterContract(harness: AdapterHarness): void {
  describe(`adapter contract: ${harness.name}`, () => {
    const cleanups: Array<() => unknown> = [];

    afterEach(async () => {
      vi.useRealTimers();
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    async function setup(options: SetupOptions = {}): Promise<Setup> {
      const server = await startTestServer({
        accessTokenLifetimeSeconds: TOKEN_LIFETIME_SECONDS,
        ...options.server,
      });
      cleanups.push(() => server.close());
      const echo = await startEchoServer();
      cleanups.push(() => echo.close());
      let offset = 0;
      const session = new OAuthSession({
        serverUrl: server.mcpUrl,
        httpClient: harness.createHttpClient(options.harness),
        client: { clientName: 'adapter contract', redirectUris: ['http://127.0.0.1/callback'] },
        authorizationHandler: server.authorizationHandler(),
        clock: () => Date.now() + offset,
        ...options.session,
      });
      const client = harness.createClient(session, options.harness);
      cleanups.push(() => client.dispose?.());
      return {
        server,
        echo,
        session,
        client,
        advanceClock: (milliseconds) => {
          offset += milliseconds;
        },
        get: (url, extra = {}) => client.request({ method: 'GET', url, ...extra }),
      };
    }

    /** The first request: 401, discovery, registration, authorization, token, retry → 200. */
    async function authorize({ server, get }: Setup): Promise<void> {
      expectStatus(await get(server.mcpUrl), 200);
    }

    // -------------------------------------------------------------------------- where the token goes

    describe('where credentials go', () => {
      it('attaches the token inside the protected resource and nowhere else on the origin', async () => {
        const context = await setup();
        const { server, get } = context;
        await authorize(context);
        expectStatus(await get(server.url('/mcp/tools/list?cursor=1')), 200);
        expectStatus(await get(server.url('/public/page')), 200);
        expectStatus(await get(server.url('/mcp-admin')), 200);

        const token = server.issuedTokens[0]!.accessToken;
        expect(server.requestsTo('/mcp/tools/list').map((record) => record.headers.authorization)).toEqual([
          `Bearer ${token}`,
        ]);
        expect(server.requestsTo('/public/page')[0]!.headers.authorization).toBeUndefined();
        expect(server.requestsTo('/mcp-admin')[0]!.headers.authorization).toBeUndefined();
      });

      it('never sends credentials to another origin', async () => {
        const context = await setup();
        const { echo, get, client } = context;
        await authorize(context);
        expectStatus(await get(echo.url('/elsewhere')), 200);
        expectStatus(
          await client.request({ method: 'POST', url: echo.url('/mcp'), body: createContractBody('json') }),
          200,
        );
        expect(echo.requests).toHaveLength(2);
        expect(echo.credentialed()).toEqual([]);
      });

      for (const status of [302, 307] as const) {
        it(`does not carry the token over a ${status} redirect to another origin`, async () => {
          const context = await setup();
          const { server, echo, client } = context;
          await authorize(context);
          server.redirectTo('/mcp/away', echo.url('/landing'), status);
          const response = await client.request(
            status === 307
              ? { method: 'POST', url: server.url('/mcp/away'), body: createContractBody('json') }
              : { method: 'GET', url: server.url('/mcp/away') },
          );
          // The token was attached to the first hop, and never reached the other origin.
          expect(server.requestsTo('/mcp/away')[0]!.headers.authorization).toMatch(/^Bearer /);
          expect(echo.credentialed()).toEqual([]);
          if (response.status === 200) expect(echo.requests).toHaveLength(1);
          else expectStatus(response, status);
        });
      }

      for (const dpop of [false, true]) {
        it(`does not carry the ${dpop ? 'DPoP token and proof' : 'token'} over a redirect answered to the retry after a 401`, async () => {
          const context = await setup(
            dpop ? { server: { dpop: true }, session: { dpop: createDpop() } } : {},
          );
          const { server, echo, client } = context;
          server.respondWith('/mcp/away', (record) =>
            record.headers.authorization === undefined
              ? {
                  status: 401,
                  headers: { 'www-authenticate': `Bearer resource_metadata="${server.resourceMetadataUrl}"` },
                }
              : { status: 307, headers: { location: echo.url('/landing') } },
          );
          const response = await client.request({
            method: 'POST',
            url: server.url('/mcp/away'),
            body: createContractBody('json'),
          });
          const sent = server.requestsTo('/mcp/away');
          expect(sent.map((record) => record.headers.authorization === undefined)).toEqual([true, false]);
          expect(echo.credentialed()).toEqual([]);
          if (response.status === 200) expect(echo.requests).toHaveLength(1);
          else expectStatus(response, 307);
        });
      }

      it('does not carry a DPoP token or proof over a redirect to another origin', async () => {
        const context = await setup({ server: { dpop: true }, session: { dpop: createDpop() } });
        const { server, echo, get } = context;
        await authorize(context);
        server.redirectTo('/mcp/away', echo.url('/landing'), 307);
        const response = await get(server.url('/mcp/away'));
        expect(server.requestsTo('/mcp/away')[0]!.headers.dpop).toBeDefined();
        expect(echo.credentialed()).toEqual([]);
        if (response.status !== 200) expectStatus(response, 307);
        expectStatus(await get(echo.url('/direct')), 200);
        expect(echo.credentialed()).toEqual([]);
      });
    });

    // -------------------------------------------------------------------------- the engine owns the request

    describe('the per-request policy, with Bearer and DPoP', () => {
      for (const dpop of [false, true]) {
        const scheme = dpop ? 'DPoP' : 'Bearer';
        const withScheme = (extra: SetupOptions = {}): SetupOptions =>
          dpop
            ? {
                ...extra,
                server: { dpop: true, ...extra.server },
                session: { dpop: createDpop(), ...extra.session },
              }
            : extra;

        for (const status of [302, 307] as const) {
          it(`${scheme}: a same-origin ${status} redirect outside the resource gets no credential`, async () => {
            const context = await setup(withScheme());
            const { server, client } = context;
            await authorize(context);
            server.redirectTo('/mcp/x', server.url('/outside/x'), status);
            const response = await client.request(
              status === 307
                ? { method: 'POST', url: server.url('/mcp/x'), body: createContractBody('json') }
                : { method: 'GET', url: server.url('/mcp/x') },
            );
            expectStatus(response, 200);
            expect(server.requestsTo('/mcp/x')[0]!.headers.authorization).toMatch(new RegExp(`^${scheme} `));
            const outside = server.requestsTo('/outside/x');
            expect(outside).toHaveLength(1);
            expect(outside[0]!.headers.authorization).toBeUndefined();
            expect(outside[0]!.headers.dpop).toBeUndefined();
          });
        }

        it(`${scheme}: what the library throws for an authorized request carries no token`, async () => {
          const context = await setup(withScheme());
          const { server, client } = context;
          await authorize(context);
          server.respondWith('/mcp/broken', { status: 500, body: 'broken' });
          const response = await client.request({
            method: 'POST',
            url: server.url('/mcp/broken'),
            body: createContractBody('json'),
          });
          expectStatus(response, 500);
          expect(server.requestsTo('/mcp/broken')[0]!.headers.authorization).toMatch(
            new RegExp(`^${scheme} `),
          );
          if (harness.throwsHttpErrors) {
            expect(response.raised, 'the harness must report the error the library threw').toBeDefined();
          }
          if (response.raised !== undefined) {
            const token = server.issuedTokens.at(-1)!.accessToken;
            const proof = server.requestsTo('/mcp/broken')[0]!.headers.dpop;
            const views = [
              inspect(response.raised, { depth: 8, showHidden: false }),
              safeJson(response.raised),
            ];
            for (const view of views) {
              expect(view).not.toContain(token);
              if (proof !== undefined) expect(view).not.toContain(proof);
            }
          }
        });

        it(`${scheme}: a server alternating 403 with a new scope and 200 causes at most 3 step-ups`, async () => {
          const context = await setup(withScheme());
          const { server, get } = context;
          await authorize(context);
          let asked = 0;
          let answered = 0;
          server.respondWith('/mcp/greedy', () =>
            answered++ % 2 === 0
              ? {
                  status: 403,
                  headers: {
                    'www-authenticate': `${scheme} error="insufficient_scope", scope="mcp:read extra:${++asked}"`,
                  },
                }
              : { status: 200, body: 'ok' },
          );
          for (let index = 0; index < 30; index++) await get(server.url('/mcp/greedy'));
          // One authorization for the first request, then at most three step-ups.
          expect(server.count('/authorize')).toBeLessThanOrEqual(1 + 3);
          expect(server.count('/authorize')).toBeGreaterThanOrEqual(2);
        });

        it(`${scheme}: a 401 outside the scope is logged with its reason`, async () => {
          const events: Array<{ event: string; data: unknown }> = [];
          const record = (event: string, data: unknown) => events.push({ event, data });
          const context = await setup(withScheme({ session: { logger: { debug: record, warn: record } } }));
          const { server, get } = context;
          await authorize(context);
          server.respondWith('/elsewhere', { status: 401, headers: { 'www-authenticate': 'Bearer' } });
          expectStatus(await get(server.url('/elsewhere')), 401);
          expect(events).toContainEqual({
            event: 'session.outside_scope',
            data: { status: 401, url: server.url('/elsewhere'), reason: 'path' },
          });
        });
      }

      it('DPoP: use_dpop_nonce on the retry after an authorization succeeds with no retry by the application', async () => {
        const context = await setup({ server: { dpop: true }, session: { dpop: createDpop() } });
        const { server, get } = context;
        server.requireDpopNonce('n-contract');
        expectStatus(await get(server.mcpUrl), 200);
        const sent = server.requestsTo('/mcp');
        expect(sent.map((record) => record.status)).toEqual([401, 401, 200]);
        expect(server.count('/authorize')).toBe(1);
      });
    });

    // -------------------------------------------------------------------------- 401

    describe('401', () => {
      it('authorizes on the first 401 and retries once', async () => {
        const { server, get } = await setup();
        expectStatus(await get(server.mcpUrl), 200);
        const sent = server.requestsTo('/mcp');
        expect(sent.map((record) => record.status)).toEqual([401, 200]);
        expect(sent[0]!.headers.authorization).toBeUndefined();
        expect(sent[1]!.headers.authorization).toBe(`Bearer ${server.issuedTokens[0]!.accessToken}`);
        expect(server.count('/register')).toBe(1);
        expect(server.count('/authorize')).toBe(1);
        expect(server.count('/token')).toBe(1);
      });

      it('refreshes a rejected token and retries once', async () => {
        const context = await setup();
        const { server, get } = context;
        await authorize(context);
        server.revokeAllAccessTokens();
        expectStatus(await get(server.url('/mcp/again')), 200);
        expect(server.requestsTo('/mcp/again').map((record) => record.status)).toEqual([401, 200]);
        expect(server.issuedTokens.map((token) => token.grantType)).toEqual([
          'authorization_code',
          'refresh_token',
        ]);
        expect(server.requestsTo('/mcp/again')[1]!.headers.authorization).toBe(
          `Bearer ${server.issuedTokens[1]!.accessToken}`,
        );
      });

      it('hands a second 401 back instead of looping', async () => {
        const { server, get } = await setup();
        server.alwaysUnauthorized('/mcp');
        expectStatus(await get(server.mcpUrl), 401);
        expect(server.requestsTo('/mcp').map((record) => record.status)).toEqual([401, 401]);
        expect(server.count('/token')).toBe(1);
      });

      it('hands a second 401 back after a refresh, with two requests', async () => {
        const context = await setup();
        const { server, get } = context;
        await authorize(context);
        server.alwaysUnauthorized('/mcp/locked');
        expectStatus(await get(server.url('/mcp/locked')), 401);
        expect(server.count('/mcp/locked')).toBe(2);
        expect(server.issuedTokens.map((token) => token.grantType)).toEqual([
          'authorization_code',
          'refresh_token',
        ]);
      });
    });

    // -------------------------------------------------------------------------- 403

    describe('403', () => {
      it('steps up on 403 insufficient_scope and retries once', async () => {
        const context = await setup();
        const { server, client } = context;
        await authorize(context);
        server.requireScopes('/mcp/write', ['mcp:write']);
        const response = await client.request({
          method: 'POST',
          url: server.url('/mcp/write'),
          body: createContractBody('json'),
        });
        expectStatus(response, 200);
        expect(server.requestsTo('/mcp/write').map((record) => record.status)).toEqual([403, 200]);
        expect(server.count('/authorize')).toBe(2);
        const stepUp = new URL(server.requestsTo('/authorize')[1]!.url).searchParams.get('scope') ?? '';
        expect(stepUp.split(' ')).toEqual(expect.arrayContaining(['mcp:read', 'mcp:write']));
        expect(server.issuedTokens.at(-1)!.scopes).toEqual(expect.arrayContaining(['mcp:write']));
      });

      it('passes a plain 403 back untouched', async () => {
        const context = await setup();
        const { server, get } = context;
        await authorize(context);
        server.plainForbidden('/mcp/forbidden');
        const tokens = server.count('/token');
        expectStatus(await get(server.url('/mcp/forbidden')), 403);
        expect(server.count('/mcp/forbidden')).toBe(1);
        expect(server.count('/token')).toBe(tokens);
        expect(server.count('/authorize')).toBe(1);
      });
    });

    // -------------------------------------------------------------------------- concurrency

    describe('concurrency', () => {
      it(`${CONCURRENT_REQUESTS} concurrent requests with an expired token share one refresh`, async () => {
        const context = await setup();
        const { server, get, advanceClock } = context;
        await authorize(context);
        advanceClock(PAST_EXPIRY_MS);
        const responses = await Promise.all(
          range(CONCURRENT_REQUESTS).map((index) => get(server.url(`/mcp/c/${index}`))),
        );
        for (const response of responses) expectStatus(response, 200);
        expect(server.issuedTokens.map((token) => token.grantType)).toEqual([
          'authorization_code',
          'refresh_token',
        ]);
        const refreshed = `Bearer ${server.issuedTokens[1]!.accessToken}`;
        for (const index of range(CONCURRENT_REQUESTS)) {
          expect(server.requestsTo(`/mcp/c/${index}`).map((record) => record.headers.authorization)).toEqual([
            refreshed,
          ]);
        }
      });

      it(`${CONCURRENT_REQUESTS} concurrent 401s share one refresh and all succeed`, async () => {
        const context = await setup();
        const { server, get } = context;
        await authorize(context);
        server.revokeAllAccessTokens();
        const responses = await Promise.all(
          range(CONCURRENT_REQUESTS).map((index) => get(server.url(`/mcp/c/${index}`))),
        );
        for (const response of responses) expectStatus(response, 200);
        expect(server.issuedTokens.map((token) => token.grantType)).toEqual([
          'authorization_code',
          'refresh_token',
        ]);
        for (const index of range(CONCURRENT_REQUESTS)) {
          const sent = server.requestsTo(`/mcp/c/${index}`);
          expect(sent.length).toBeLessThanOrEqual(2);
          expect(sent.at(-1)!.headers.authorization).toBe(`Bearer ${server.issuedTokens[1]!.accessToken}`);
        }
      });

      it('requests started while a refresh is in flight wait for it', async () => {
        const context = await setup();
        const { server, get, advanceClock } = context;
        await authorize(context);
        advanceClock(PAST_EXPIRY_MS);
        const gate = server.holdTokenRequests();
        const first = get(server.url('/mcp/w/0'));
        await gate.reached;
        const later = range(4).map((index) => get(server.url(`/mcp/w/${index + 1}`)));
        gate.release();
        for (const response of await Promise.all([first, ...later])) expectStatus(response, 200);
        expect(server.count('/token')).toBe(2);
        const refreshed = `Bearer ${server.issuedTokens[1]!.accessToken}`;
        for (const index of range(5)) {
          expect(server.requestsTo(`/mcp/w/${index}`).map((record) => record.headers.authorization)).toEqual([
            refreshed,
          ]);
        }
      });
    });

    // -------------------------------------------------------------------------- bodies

    describe('request bodies', () => {
      for (const kind of BODY_KINDS) {
        if (harness.replayableBodies.includes(kind)) {
          it(`replays a ${kind} body byte for byte after a 401`, async () => {
            const { server, client } = await setup();
            const body = createContractBody(kind);
            expectStatus(await client.request({ method: 'POST', url: server.url('/mcp/body'), body }), 200);
            const sent = server.requestsTo('/mcp/body');
            expect(sent.map((record) => record.status)).toEqual([401, 200]);
            const [first, retry] = sent as [RecordedRequest, RecordedRequest];
            expect(first.headers.authorization).toBeUndefined();
            expect(retry.headers.authorization).toMatch(/^Bearer /);
            expectBodiesIdentical(kind, first, retry, body.expected);
          });
        } else {
          it(`refuses to replay a ${kind} body: request_not_replayable, never an empty or cut body`, async () => {
            const { server, client } = await setup();
            const body = createContractBody(kind);
            const error = expectFailure(
              await client.request({ method: 'POST', url: server.url('/mcp/body'), body }),
            );
            expect(
              isOAuthClientError(findOAuthError(error), 'request_not_replayable'),
              describeError(error),
            ).toBe(true);
            const sent = server.requestsTo('/mcp/body');
            expect(sent.length).toBeLessThanOrEqual(1);
            for (const record of sent) {
              expect(record.complete).toBe(true);
              expectBodySent(kind, record, body.expected);
            }
          });

          it(`sends a ${kind} body when no retry is needed`, async () => {
            const context = await setup();
            const { server, client } = context;
            await authorize(context);
            const body = createContractBody(kind);
            expectStatus(await client.request({ method: 'POST', url: server.url('/mcp/body'), body }), 200);
            const sent = server.requestsTo('/mcp/body');
            expect(sent).toHaveLength(1);
            expectBodySent(kind, sent[0]!, body.expected);
          });
        }
      }
    });

    // -------------------------------------------------------------------------- DPoP

    describe('DPoP', () => {
      it("sends a fresh proof for each request's own method and URL", async () => {
        const context = await setup({ server: { dpop: true }, session: { dpop: createDpop() } });
        const { server, client, get } = context;
        await authorize(context);
        expectStatus(await get(server.url('/mcp/a?query=1')), 200);
        expectStatus(
          await client.request({
            method: 'POST',
            url: server.url('/mcp/b'),
            body: createContractBody('json'),
          }),
          200,
        );
        expectStatus(await client.request({ method: 'DELETE', url: server.url('/mcp/b') }), 200);
        expectStatus(await get(server.url('/mcp/a?query=2')), 200);

        expect(server.issuedTokens.map((token) => token.tokenType)).toEqual(['DPoP']);
        const answered = server.requests.filter(
          (record) => (record.path === '/mcp' || record.path.startsWith('/mcp/')) && record.status === 200,
        );
        expect(answered).toHaveLength(5);
        for (const record of answered) {
          expect(record.headers.authorization).toMatch(/^DPoP /);
          expect(record.dpop?.htm).toBe(record.method);
          expect(record.dpop?.htu).toBe(server.url(record.path));
          expect(record.dpop?.ath).toBeDefined();
        }
        const jtis = server.requests.flatMap((record) =>
          record.dpop?.jti === undefined ? [] : [record.dpop.jti],
        );
        expect(jtis.length).toBeGreaterThanOrEqual(6);
        expect(new Set(jtis).size).toBe(jtis.length);
      });

      it('retries once with the nonce a use_dpop_nonce challenge names', async () => {
        const context = await setup({ server: { dpop: true }, session: { dpop: createDpop() } });
        const { server, get } = context;
        await authorize(context);
        server.requireDpopNonce('nonce-1');
        expectStatus(await get(server.url('/mcp/nonce')), 200);
        const sent = server.requestsTo('/mcp/nonce');
        expect(sent.map((record) => record.status)).toEqual([401, 200]);
        expect(sent[0]!.dpop?.nonce).toBeUndefined();
        expect(sent[1]!.dpop?.nonce).toBe('nonce-1');
        expect(server.count('/token')).toBe(1);
      });
    });

    // -------------------------------------------------------------------------- retries

    describe('retries', () => {
      for (const method of ['POST', 'PUT', 'DELETE'] as const) {
        it(`retries a ${method} at once, without waiting on any timer`, async () => {
          const { server, client } = await setup();
          // With setTimeout frozen, a retry that goes through a library's delayed retry never
          // happens; the real timer below only turns that hang into a clear failure.
          const realSetTimeout = globalThis.setTimeout;
          let stuck: () => void = () => {};
          const guard = new Promise<'stuck'>((resolve) => {
            stuck = () => resolve('stuck');
          });
          const guardTimer = realSetTimeout(stuck, 8000);
          vi.useFakeTimers({ toFake: ['setTimeout'] });
          let outcome: ContractResponse | 'stuck';
          try {
            outcome = await Promise.race([
              client.request({
                method,
                url: server.url('/mcp/retry'),
                ...(method === 'DELETE' ? {} : { body: createContractBody('json') }),
              }),
              guard,
            ]);
          } finally {
            vi.useRealTimers();
            clearTimeout(guardTimer);
          }
          if (outcome === 'stuck') throw new Error('the retry waited on a timer: a library retry delay?');
          expectStatus(outcome, 200);
          expect(server.requestsTo('/mcp/retry').map((record) => record.status)).toEqual([401, 200]);
        });
      }
    });

    // -------------------------------------------------------------------------- abort

    describe('abort', () => {
      it('an abort while the request waits on a refresh settles it', async () => {
        const context = await setup();
        const { server, get, advanceClock } = context;
        await authorize(context);
        advanceClock(PAST_EXPIRY_MS);
        const gate = server.holdTokenRequests();
        const controller = new AbortController();
        const pending = get(server.url('/mcp/abort'), { signal: controller.signal });
        await gate.reached;
        controller.abort();
        const error = expectFailure(await pending);
        expect(isAbortLike(error), describeError(error)).toBe(true);
        expect(server.count('/mcp/abort')).toBe(0);
      });

      it('an abort while the request waits on the user settles it', async () => {
        let called: () => void = () => {};
        const handlerCalled = new Promise<void>((resolve) => {
          called = resolve;
        });
        const { server, get } = await setup({
          session: {
            authorizationHandler: () => {
              called();
              return new Promise(() => {});
            },
          },
        });
        const controller = new AbortController();
        const pending = get(server.url('/mcp/abort'), { signal: controller.signal });
        await handlerCalled;
        controller.abort();
        const error = expectFailure(await pending);
        expect(isAbortLike(error), describeError(error)).toBe(true);
        expect(server.count('/mcp/abort')).toBe(1);
      });

      it('an abort while the request itself is in flight settles it and drops the connection', async () => {
        const context = await setup();
        const { server, get } = context;
        await authorize(context);
        const gate = server.hold('/mcp/slow');
        const controller = new AbortController();
        const pending = get(server.url('/mcp/slow'), { signal: controller.signal });
        await gate.reached;
        controller.abort();
        const error = expectFailure(await pending);
        expect(isAbortLike(error), describeError(error)).toBe(true);
        await gate.abandoned;
      });
    });

    // -------------------------------------------------------------------------- failures

    describe('failures', () => {
      it('a failing refresh of an expired token is refresh_failed, not a hang', async () => {
        const context = await setup();
        const { server, get, advanceClock } = context;
        await authorize(context);
        advanceClock(PAST_EXPIRY_MS);
        server.failTokenRequests({ status: 500 });
        const error = expectFailure(await get(server.url('/mcp/fail')));
        expect(isOAuthClientError(findOAuthError(error), 'refresh_failed'), describeError(error)).toBe(true);
        expect(server.count('/mcp/fail')).toBe(0);
      });

      it('a failing refresh after a 401 is refresh_failed', async () => {
        const context = await setup();
        const { server, get } = context;
        await authorize(context);
        server.revokeAllAccessTokens();
        server.failTokenRequests({ status: 500 });
        const error = expectFailure(await get(server.url('/mcp/fail')));
        expect(isOAuthClientError(findOAuthError(error), 'refresh_failed'), describeError(error)).toBe(true);
        expect(server.count('/mcp/fail')).toBe(1);
      });

      it('a hanging token endpoint is refresh_failed once the session timeout passes', async () => {
        const context = await setup({ session: { timeoutMs: 500 } });
        const { server, get, advanceClock } = context;
        await authorize(context);
        advanceClock(PAST_EXPIRY_MS);
        const gate = server.holdTokenRequests();
        const error = expectFailure(await get(server.url('/mcp/fail')));
        expect(isOAuthClientError(findOAuthError(error), 'refresh_failed'), describeError(error)).toBe(true);
        expect(hasCode(error, 'timeout')).toBe(true);
        await gate.abandoned;
      });
    });

    // -------------------------------------------------------------------------- OAuthHttpClient

    describe('OAuthHttpClient', () => {
      it("keeps the application's default headers away from the authorization server", async () => {
        const defaultHeaders = { 'x-app': 'secret-app-header' };
        const { server, get } = await setup({ harness: { defaultHeaders } });
        expectStatus(await get(server.mcpUrl), 200);
        // The harness did configure the defaults: they reach the MCP server…
        const mcp = server.requestsTo('/mcp');
        expect(mcp).toHaveLength(2);
        for (const record of mcp) expect(record.headers['x-app']).toBe('secret-app-header');
        // …but none of the engine's requests.
        const engine = server.requests.filter(
          (record) =>
            record.path.startsWith('/.well-known/') ||
            record.path === '/register' ||
            record.path === '/token',
        );
        expect(engine.map((record) => record.path)).toEqual(
          expect.arrayContaining([
            PRM_PATH,
            '/.well-known/oauth-authorization-server',
            '/register',
            '/token',
          ]),
        );
        for (const record of engine) expect(record.headers['x-app']).toBeUndefined();
      });

      it('sends exactly the method, URL, headers and body it is given', async () => {
        const { server } = await setup();
        const http = harness.createHttpClient({ defaultHeaders: { 'x-app': 'secret-app-header' } });
        const body = 'grant_type=example&value=%C3%A9';
        const { response, error } = await sendDirect(
          http,
          oauthRequest({
            method: 'POST',
            url: server.url('/public/echo?query=1'),
            headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-engine': 'yes' },
            body,
          }),
        );
        if (response === undefined) throw new Error(`send failed: ${describeError(error)}`);
        expect(response.status).toBe(200);
        const [record] = server.requestsTo('/public/echo');
        expect(record!.method).toBe('POST');
        expect(record!.search).toBe('?query=1');
        expect(record!.text).toBe(body);
        expect(record!.headers['x-engine']).toBe('yes');
        expect(record!.headers['content-type']).toBe('application/x-www-form-urlencoded');
        expect(record!.headers['x-app']).toBeUndefined();
        expect(record!.headers.authorization).toBeUndefined();
      });

      it('hands back lower-case response headers and the body as text', async () => {
        const { server } = await setup();
        server.respondWith('/public/headers', {
          status: 201,
          headers: { 'X-Custom-Header': 'Value', 'Content-Type': 'text/plain; charset=utf-8' },
          body: 'héllo',
        });
        const response = await harness
          .createHttpClient()
          .send(oauthRequest({ url: server.url('/public/headers') }));
        expect(response.status).toBe(201);
        expect(response.headers['x-custom-header']).toBe('Value');
        expect(response.body).toBe('héllo');
      });

      it('returns a 3xx as it is, without following it', async () => {
        const { server, echo } = await setup();
        server.redirectTo('/token', echo.url('/token'), 307);
        const { response, error } = await sendDirect(
          harness.createHttpClient(),
          oauthRequest({
            method: 'POST',
            url: server.tokenEndpoint,
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: 'grant_type=refresh_token&refresh_token=SECRET',
          }),
        );
        if (response === undefined) throw new Error(`send failed: ${describeError(error)}`);
        expect(response.status).toBe(307);
        expect(response.headers.location).toBe(echo.url('/token'));
        expect(echo.requests).toEqual([]);
      });

      it('a redirecting token endpoint is redirect_not_allowed', async () => {
        const { server, echo, get } = await setup();
        server.redirectTo('/token', echo.url('/token'), 307);
        const error = expectFailure(await get(server.mcpUrl));
        expect(hasCode(error, 'redirect_not_allowed'), describeError(error)).toBe(true);
        expect(echo.requests).toEqual([]);
      });

      it('stops reading a body larger than maxResponseBytes', async () => {
        const { server } = await setup();
        server.respondWith('/public/endless', { status: 200, endless: true });
        const { error } = await sendDirect(
          harness.createHttpClient(),
          oauthRequest({ url: server.url('/public/endless'), maxResponseBytes: 64 * 1024 }),
        );
        expect(error).toBeDefined();
        if (isOAuthClientError(error)) expect(error.code).toBe('response_too_large');
      });

      it('a huge metadata document is response_too_large', async () => {
        const { server, get } = await setup({ session: { maxResponseBytes: 4096 } });
        server.respondWith(PRM_PATH, jsonReply(200, { padding: 'x'.repeat(64 * 1024) }));
        const error = expectFailure(await get(server.mcpUrl));
        expect(hasCode(error, 'response_too_large'), describeError(error)).toBe(true);
      });

      it('honours the abort signal and drops the connection', async () => {
        const { server } = await setup();
        const gate = server.hold('/public/slow');
        const controller = new AbortController();
        const sending = sendDirect(
          harness.createHttpClient(),
          oauthRequest({ url: server.url('/public/slow'), signal: controller.signal }),
        );
        await gate.reached;
        controller.abort();
        expect((await sending).error).toBeDefined();
        await gate.abandoned;
      });

      it('a hanging endpoint is a timeout with a short session timeoutMs', async () => {
        const { server, get } = await setup({ session: { timeoutMs: 300 } });
        const gate = server.hold(PRM_PATH);
        const error = expectFailure(await get(server.mcpUrl));
        expect(hasCode(error, 'timeout'), describeError(error)).toBe(true);
        await gate.abandoned;
      });
    });
  });
}

/** The body arrived whole: exactly the expected bytes, or for multipart the part inside its framing. */
function expectBodySent(kind: BodyKind, record: RecordedRequest, expected: Uint8Array): void {
  if (kind === 'formdata') {
    expect(record.headers['content-type']).toMatch(/^multipart\/form-data; *boundary=/);
    expect(contains(record.body, expected)).toBe(true);
    return;
  }
  expect(base64(record.body)).toBe(base64(expected));
}

function expectBodiesIdentical(
  kind: BodyKind,
  first: RecordedRequest,
  retry: RecordedRequest,
  expected: Uint8Array,
): void {
  expect(first.complete && retry.complete).toBe(true);
  if (kind === 'formdata') {
    expect(withoutBoundary(retry)).toEqual(withoutBoundary(first));
    expect(contains(first.body, expected)).toBe(true);
    return;
  }
  expect(retry.headers['content-type']).toBe(first.headers['content-type']);
  expect(base64(first.body)).toBe(base64(expected));
  expect(base64(retry.body)).toBe(base64(expected));
}
