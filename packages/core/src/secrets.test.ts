import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { validateCallback } from './callback.js';
import { discover } from './discovery.js';
import { isOAuthClientError } from './errors.js';
import { createHttpContext, sendRequest } from './http.js';
import type { OAuthLogger } from './logger.js';
import { resolveClient } from './registration.js';
import { OAuthSession } from './session/session.js';
import { importSigningKey } from './signing-key.js';
import { MemoryStore } from './stores.js';
import { FakeServer, ISSUER, json, SERVER } from './test-utils/fake-server.js';
import { requestToken } from './token.js';
import type { ClientInformation, PendingAuthorization } from './types.js';

/**
 * The canary: every error path is driven with values containing SECRET (tokens, codes, client
 * secrets, keys, hostile response bodies, query strings). None may surface in an error's message,
 * its cause, its serialisation or inspection, nor in any log line.
 */
const CANARY = 'SECRET';

function recordingLogger(): OAuthLogger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    debug: (event, data) => lines.push(`${event} ${JSON.stringify(data ?? {})}`),
    warn: (event, data) => lines.push(`${event} ${JSON.stringify(data ?? {})}`),
  };
}

function renderings(error: unknown): string[] {
  const rendered = [String(error), JSON.stringify(error), inspect(error, { depth: 10, showHidden: false })];
  let cause = (error as { cause?: unknown }).cause;
  while (cause !== undefined) {
    rendered.push(String(cause), JSON.stringify(cause), inspect(cause, { depth: 10 }));
    cause = (cause as { cause?: unknown }).cause;
  }
  return rendered;
}

async function failure(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

function expectClean(error: unknown) {
  expect(isOAuthClientError(error)).toBe(true);
  for (const text of renderings(error)) expect(text).not.toContain(CANARY);
}

const hostileBody = JSON.stringify({
  error: 'invalid_grant',
  error_description: `token access-${CANARY}-dGhpcyBpcyBhIHJlZmxlY3RlZCB0b2tlbg is bad`,
  error_uri: `https://x.example.com/?t=${CANARY}`,
});

describe('no secret reaches an error or a log line', () => {
  const logger = recordingLogger();
  const context = createHttpContext(
    { send: async () => ({ status: 500, headers: {}, body: CANARY }) },
    { logger },
  );

  const cases: Array<[string, () => Promise<unknown>]> = [
    [
      'a token endpoint error with hostile description',
      () =>
        requestToken(
          createHttpContext({ send: async () => json(400, JSON.parse(hostileBody)) as never }, { logger }),
          {
            tokenEndpoint: `${ISSUER}/token`,
            issuer: ISSUER,
            grant: { type: 'refresh_token', refreshToken: `refresh-${CANARY}` },
            client: { clientId: 'c', method: 'client_secret_post', clientSecret: `secret-${CANARY}` },
            now: 0,
            requestedScopes: [],
          },
        ),
    ],
    [
      'a token response whose fields are wrong',
      () =>
        requestToken(
          createHttpContext(
            {
              send: async () =>
                json(200, { access_token: `a-${CANARY}`, token_type: `x-${CANARY}` }) as never,
            },
            { logger },
          ),
          {
            tokenEndpoint: `${ISSUER}/token`,
            issuer: ISSUER,
            grant: {
              type: 'authorization_code',
              code: `code-${CANARY}`,
              codeVerifier: `v-${CANARY}`,
              redirectUri: 'x',
            },
            client: { clientId: 'c', method: 'client_secret_basic', clientSecret: `secret-${CANARY}` },
            now: 0,
            requestedScopes: [],
          },
        ),
    ],
    [
      'a token endpoint redirect with a secret in the location',
      () =>
        requestToken(
          createHttpContext(
            {
              send: async () => ({
                status: 302,
                headers: { location: `https://evil.example.com/?c=${CANARY}` },
                body: '',
              }),
            },
            { logger },
          ),
          {
            tokenEndpoint: `${ISSUER}/token`,
            issuer: ISSUER,
            grant: {
              type: 'authorization_code',
              code: `code-${CANARY}`,
              codeVerifier: `v-${CANARY}`,
              redirectUri: 'x',
            },
            client: { clientId: 'c', method: 'none' },
            now: 0,
            requestedScopes: [],
          },
        ),
    ],
    [
      'a transport failure whose error names a secret URL',
      () =>
        sendRequest(
          createHttpContext(
            {
              send: async () => {
                throw new Error(`connect failed for https://x.example.com/?token=${CANARY}`);
              },
            },
            { logger },
          ),
          { method: 'GET', url: `https://x.example.com/path?token=${CANARY}`, redirect: 'never' },
        ),
    ],
    [
      'a response body over the cap',
      () =>
        sendRequest(
          createHttpContext(
            { send: async () => ({ status: 200, headers: {}, body: CANARY.repeat(1000) }) },
            {
              logger,
              maxResponseBytes: 100,
            },
          ),
          { method: 'GET', url: `https://x.example.com/?q=${CANARY}`, redirect: 'never' },
        ),
    ],
    [
      'discovery against a server answering secrets',
      () => discover(context, { serverUrl: new URL(`${SERVER}/mcp`) }),
    ],
    [
      'discovery with a challenge URL carrying a secret query',
      () =>
        discover(
          createHttpContext(
            { send: async () => json(200, { resource: 'https://other.example.com' }) as never },
            { logger },
          ),
          { serverUrl: new URL(`${SERVER}/mcp`), resourceMetadataUrl: `${SERVER}/.well-known/x?t=${CANARY}` },
        ),
    ],
    [
      'a registration rejected with a hostile body',
      () =>
        resolveClient(
          createHttpContext({ send: async () => json(400, JSON.parse(hostileBody)) as never }, { logger }),
          {
            issuer: ISSUER,
            metadata: { issuer: ISSUER, registration_endpoint: `${ISSUER}/register` },
            client: { redirectUris: ['http://127.0.0.1/cb'], clientName: `name-${CANARY}` },
            grantTypes: ['authorization_code'],
            store: new MemoryStore<ClientInformation>(),
            now: 0,
          },
        ),
    ],
    [
      'an authorization error response with a hostile description',
      async () =>
        validateCallback(
          {
            state: 's',
            iss: ISSUER,
            error: 'access_denied',
            errorDescription: `desc-${CANARY}-dGhpcyBpcyBhIHJlZmxlY3RlZCB0b2tlbg`,
            errorUri: CANARY,
          },
          pending(),
          0,
        ),
    ],
    [
      'an authorization response from the wrong issuer',
      async () =>
        validateCallback(
          {
            state: 's',
            code: `code-${CANARY}`,
            iss: `https://evil.example.com/${CANARY}`,
            error: `e${CANARY}`,
          },
          pending(),
          0,
        ),
    ],
    [
      'an unknown state',
      async () => validateCallback({ state: `state-${CANARY}`, code: `code-${CANARY}` }, undefined, 0),
    ],
    [
      'a malformed private key',
      () => importSigningKey(`-----BEGIN PRIVATE KEY-----\n${CANARY}\n-----END PRIVATE KEY-----`),
    ],
    ['a malformed JWK', () => importSigningKey({ kty: 'EC', crv: 'P-256', d: CANARY, x: CANARY, y: CANARY })],
  ];

  for (const [name, run] of cases) {
    it(name, async () => {
      expectClean(await failure(run));
    });
  }

  it('a whole session flow with failures logs nothing secret', async () => {
    const server = new FakeServer({ accessTokenLifetime: 60 });
    const sessionLogger = recordingLogger();
    const session = new OAuthSession({
      serverUrl: server.resourceUrl,
      httpClient: server.http,
      client: { redirectUris: ['http://127.0.0.1:9/cb'] },
      authorizationHandler: async ({ authorizationUrl }) => server.approve(authorizationUrl),
      logger: sessionLogger,
      clock: () => server.now,
    });
    const call = async () => {
      const request = await session.beginRequest({ method: 'GET', url: server.resourceUrl });
      for (let step = request.first; ; ) {
        const next = await request.respond(server.resource({ ...step.headers }));
        if (next.type === 'done') return;
        step = next;
      }
    };
    await call();
    server.now += 120_000;
    server.http.on('POST', `${ISSUER}/token`, json(400, JSON.parse(hostileBody)));
    const error = await failure(() => session.beginRequest({ method: 'GET', url: server.resourceUrl }));
    expectClean(error);
    await session.signOut();

    const verifiers = server.http.requests.map((request) => request.form?.code_verifier).filter(Boolean);
    const codes = server.http.requests.map((request) => request.form?.code).filter(Boolean);
    expect(verifiers.length).toBeGreaterThan(0);
    const log = [...sessionLogger.lines, ...logger.lines].join('\n');
    expect(log.length).toBeGreaterThan(0);
    expect(log).not.toContain(CANARY);
    for (const value of [...verifiers, ...codes]) expect(log).not.toContain(value);
  });
});

function pending(): PendingAuthorization {
  return {
    state: 's',
    codeVerifier: `verifier-${CANARY}`,
    issuer: ISSUER,
    resource: `${SERVER}/mcp`,
    serverUrl: `${SERVER}/mcp`,
    clientId: 'c',
    redirectUri: 'http://127.0.0.1/cb',
    scopes: [],
    issParameterSupported: true,
    createdAt: 0,
    expiresAt: 1000,
  };
}
