/**
 * The session with the device authorization grant, against a scripted authorization server:
 * discovery, a registration for the device grant, the device authorization, polling without
 * waiting (a fake sleep moves the session's clock), then refresh — asserting the exact requests.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { DeviceSleep } from '../device-poll.js';
import { isOAuthClientError, type OAuthClientError } from '../errors.js';
import type { OAuthLogger } from '../logger.js';
import { createMemoryStores, tokenKey } from '../stores.js';
import { FakeHttpClient } from '../test-utils/fake-http.js';
import { GRANT_TYPE_DEVICE_CODE } from '../token.js';
import { type DeviceCodePrompt, deviceCode } from './device-code.js';
import { OAuthSession } from './session.js';

const SERVER = 'https://mcp.example.com/mcp';
const ISSUER = 'https://auth.example.com';
const PRM = 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp';
const AS_METADATA = `${ISSUER}/.well-known/oauth-authorization-server`;
const START = 1_700_000_000_000;

function json(body: unknown, status = 200) {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

function metadata(overrides: Record<string, unknown> = {}) {
  return {
    issuer: ISSUER,
    authorization_endpoint: `${ISSUER}/authorize`,
    token_endpoint: `${ISSUER}/token`,
    registration_endpoint: `${ISSUER}/register`,
    device_authorization_endpoint: `${ISSUER}/device/auth`,
    revocation_endpoint: `${ISSUER}/revoke`,
    scopes_supported: ['mcp:read', 'mcp:admin', 'offline_access'],
    grant_types_supported: ['authorization_code', 'refresh_token', GRANT_TYPE_DEVICE_CODE],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none', 'client_secret_basic'],
    ...overrides,
  };
}

const issued = {
  device_code: 'SECRET-device-code',
  user_code: 'WDJB-MJHT',
  verification_uri: `${ISSUER}/device`,
  verification_uri_complete: `${ISSUER}/device?user_code=WDJB-MJHT`,
  expires_in: 600,
  interval: 5,
};

const pending = json({ error: 'authorization_pending' }, 400);

function setup(options: { metadata?: Record<string, unknown>; polls?: ReturnType<typeof json>[] } = {}) {
  const http = new FakeHttpClient();
  http.json('GET', PRM, {
    resource: SERVER,
    authorization_servers: [ISSUER],
    scopes_supported: ['mcp:read'],
  });
  http.json('GET', AS_METADATA, metadata(options.metadata));
  http.on('POST', `${ISSUER}/register`, (request) =>
    json({ ...JSON.parse(request.body ?? '{}'), client_id: `device-client-${http.requests.length}` }, 201),
  );
  http.json('POST', `${ISSUER}/device/auth`, issued);
  http.on(
    'POST',
    `${ISSUER}/token`,
    ...(options.polls ?? [
      pending,
      json({
        access_token: 'SECRET-at-1',
        token_type: 'Bearer',
        expires_in: 3600,
        refresh_token: 'SECRET-rt-1',
        scope: 'mcp:read offline_access',
      }),
    ]),
  );
  let now = START;
  const waits: number[] = [];
  const sleep: DeviceSleep = async (ms) => {
    waits.push(ms);
    now += ms;
  };
  const prompts: DeviceCodePrompt[] = [];
  const lines: string[] = [];
  const logger: OAuthLogger = {
    debug: (event, data) => lines.push(`${event} ${JSON.stringify(data)}`),
    warn: (event, data) => lines.push(`${event} ${JSON.stringify(data)}`),
  };
  const stores = createMemoryStores();
  const session = new OAuthSession({
    serverUrl: SERVER,
    httpClient: http,
    grant: deviceCode({ onUserCode: (prompt) => void prompts.push(prompt), sleep }),
    client: { clientName: 'mcp-oauth CLI' },
    stores,
    logger,
    clock: () => now,
  });
  return { http, session, prompts, waits, lines, stores, advance: (ms: number) => (now += ms) };
}

async function caught(promise: Promise<unknown>): Promise<OAuthClientError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(isOAuthClientError(error), String(error)).toBe(true);
  return error as OAuthClientError;
}

describe('OAuthSession with the device authorization grant', () => {
  it('registers for the device grant, shows the code, polls, and refreshes afterwards', async () => {
    const { http, session, prompts, waits, lines, advance } = setup();
    const info = await session.authorize();

    expect(http.log).toEqual([
      `GET ${PRM}`,
      `GET ${AS_METADATA}`,
      `POST ${ISSUER}/register`,
      `POST ${ISSUER}/device/auth`,
      `POST ${ISSUER}/token`,
      `POST ${ISSUER}/token`,
    ]);
    expect(JSON.parse(http.requests[2]!.body!)).toEqual({
      client_name: 'mcp-oauth CLI',
      grant_types: [GRANT_TYPE_DEVICE_CODE, 'refresh_token'],
      response_types: [],
      token_endpoint_auth_method: 'none',
      application_type: 'native',
    });
    expect(http.requests[3]!.form).toEqual({
      scope: 'mcp:read offline_access',
      resource: SERVER,
      client_id: 'device-client-3',
    });
    expect(http.requests[4]!.form).toEqual({
      grant_type: GRANT_TYPE_DEVICE_CODE,
      device_code: 'SECRET-device-code',
      resource: SERVER,
      client_id: 'device-client-3',
    });
    expect(waits).toEqual([5000, 5000]);
    expect(prompts).toEqual([
      {
        userCode: 'WDJB-MJHT',
        verificationUri: `${ISSUER}/device`,
        verificationUriComplete: `${ISSUER}/device?user_code=WDJB-MJHT`,
        expiresAt: START + 600_000,
        scopes: ['mcp:read', 'offline_access'],
        signal: undefined,
      },
    ]);
    expect(info).toMatchObject({
      issuer: ISSUER,
      resource: SERVER,
      clientId: 'device-client-3',
      grantedScopes: ['mcp:read', 'offline_access'],
      hasRefreshToken: true,
      expiresAt: START + 10_000 + 3_600_000,
    });
    expect(await session.getAccessToken()).toBe('SECRET-at-1');

    // An hour later the token is renewed with the refresh token: no new device code, no prompt.
    http.json('POST', `${ISSUER}/token`, {
      access_token: 'SECRET-at-2',
      token_type: 'Bearer',
      expires_in: 3600,
    });
    advance(3_600_000);
    expect(await session.getAccessToken()).toBe('SECRET-at-2');
    expect(http.requests.at(-1)!.form).toMatchObject({
      grant_type: 'refresh_token',
      refresh_token: 'SECRET-rt-1',
    });
    expect(prompts).toHaveLength(1);
    expect(lines.join('\n')).not.toContain('SECRET');
    expect(lines.join('\n')).not.toContain('WDJB');
  });

  it('ends with authorization_denied when the user denies, and keeps no tokens', async () => {
    const { session, stores } = setup({ polls: [pending, json({ error: 'access_denied' }, 400)] });
    const error = await caught(session.authorize());
    expect(error.code).toBe('authorization_denied');
    expect(session.getTokenInfo()).toBeUndefined();
    expect(await stores.tokens.get(tokenKey(ISSUER, SERVER, 'device-client-3'))).toBeUndefined();
    for (const text of [error.message, JSON.stringify(error), inspect(error, { depth: 5 })]) {
      expect(text).not.toContain('SECRET');
    }
  });

  it('ends with device_code_expired when the user never answers', async () => {
    const { http, session, waits } = setup({ polls: [pending] });
    const error = await caught(session.authorize());
    expect(error.code).toBe('device_code_expired');
    expect(waits.reduce((sum, wait) => sum + wait, 0)).toBe(600_000);
    expect(http.log.filter((line) => line.endsWith('/token'))).toHaveLength(119);
  });

  it('says device_flow_unsupported when the authorization server has no device endpoint', async () => {
    const { http, session, prompts } = setup({ metadata: { device_authorization_endpoint: undefined } });
    const error = await caught(session.authorize());
    expect(error.code).toBe('device_flow_unsupported');
    expect(prompts).toHaveLength(0);
    expect(http.log.some((line) => line.includes('/device/auth') || line.endsWith('/token'))).toBe(false);
  });

  it('stops when onUserCode fails, before polling', async () => {
    const http = setup().http;
    const session = new OAuthSession({
      serverUrl: SERVER,
      httpClient: http,
      grant: deviceCode({
        onUserCode: () => {
          throw new Error('terminal gone');
        },
      }),
    });
    await expect(session.authorize()).rejects.toThrow('terminal gone');
    expect(http.log.filter((line) => line.endsWith('/token'))).toHaveLength(0);
  });

  it('registers anew when the stored client was registered for the browser flow only', async () => {
    const { http, session, stores } = setup();
    const record = {
      serverUrl: SERVER,
      resource: SERVER,
      issuer: ISSUER,
      authorizationServerMetadata: metadata() as never,
      metadataSource: 'oauth' as const,
      discoveredAt: START,
      clientId: 'browser-client',
    };
    await stores.discovery.set(SERVER, record);
    await stores.clients.set(ISSUER, {
      issuer: ISSUER,
      clientId: 'browser-client',
      tokenEndpointAuthMethod: 'none',
      redirectUris: ['http://127.0.0.1:1234/callback'],
      grantTypes: ['authorization_code', 'refresh_token'],
      source: 'dynamic',
    });
    const info = await session.authorize();
    expect(info.clientId).not.toBe('browser-client');
    expect(http.log).toContain(`POST ${ISSUER}/register`);
    expect((await stores.clients.get(ISSUER))?.grantTypes).toEqual([GRANT_TYPE_DEVICE_CODE, 'refresh_token']);
  });

  it('refuses a device grant without onUserCode, or a sleep that is not a function', () => {
    expect(() => deviceCode({} as never)).toThrow(
      expect.objectContaining({
        code: 'invalid_options',
        message: '"onUserCode" must be a function for the device authorization grant',
      }),
    );
    expect(() => deviceCode({ onUserCode: () => {}, sleep: 5 as never })).toThrow(
      expect.objectContaining({ code: 'invalid_options', message: '"sleep" must be a function' }),
    );
  });

  it('refuses a device_code grant that does not come from deviceCode() (it would bring no code to run)', () => {
    expect(
      () =>
        new OAuthSession({
          serverUrl: SERVER,
          httpClient: new FakeHttpClient(),
          grant: { type: 'device_code', onUserCode: () => {} } as never,
        }),
    ).toThrow(
      expect.objectContaining({
        code: 'invalid_options',
        message: '"grant" for device_code must come from deviceCode() in @mcp-oauth/core/device',
      }),
    );
  });
});
