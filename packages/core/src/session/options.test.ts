/**
 * Every option is checked at construction: a wrong value is `invalid_options` naming the option
 * and what it must be, never a `TypeError` later.
 */
import { describe, expect, it } from 'vitest';
import { OAuthSession } from './session.js';

const noop = () => {};
const store = { get: noop, set: noop, delete: noop };
const base = {
  serverUrl: 'https://mcp.example.com/mcp',
  httpClient: { send: async () => ({ status: 500, headers: {}, body: '' }) },
};

const CASES: Array<[string, unknown, string]> = [
  ['options is null', null, '"options" must be an object'],
  ['options is an array', [], '"options" must be an object'],
  [
    'serverUrl is http and not loopback',
    { serverUrl: 'http://mcp.example.com/mcp' },
    '"serverUrl" must be an https URL (http is allowed only for loopback)',
  ],
  [
    'serverUrl does not parse',
    { serverUrl: 'not a url' },
    '"serverUrl" must be an https URL (http is allowed only for loopback)',
  ],
  [
    'serverUrl is a number',
    { serverUrl: 42 },
    '"serverUrl" must be an https URL (http is allowed only for loopback)',
  ],
  ['httpClient is missing', { httpClient: undefined }, '"httpClient" must implement send()'],
  ['httpClient has no send', { httpClient: {} }, '"httpClient" must implement send()'],
  ['scopeFallback is a string', { scopeFallback: 'x' }, '"scopeFallback" must be an object'],
  [
    'scopeFallback.defaults has an empty string',
    { scopeFallback: { defaults: [''] } },
    '"scopeFallback.defaults" must be an array of non-empty strings',
  ],
  [
    'refreshScopes is unknown',
    { refreshScopes: 'all' },
    '"refreshScopes" must be "granted", "requested" or "none"',
  ],
  ['stepUps is a number', { stepUps: 5 }, '"stepUps" must be an object'],
  ['stepUps.max is negative', { stepUps: { max: -1 } }, '"stepUps.max" must be an integer of at least 0'],
  [
    'stepUps.windowMs is zero',
    { stepUps: { windowMs: 0 } },
    '"stepUps.windowMs" must be an integer of at least 1',
  ],
  ['stepUps.max is fractional', { stepUps: { max: 1.5 } }, '"stepUps.max" must be an integer of at least 0'],
  ['stores is a string', { stores: 'x' }, '"stores" must be an object'],
  ['stores.tokens is null', { stores: { tokens: null } }, '"stores.tokens" must implement get()'],
  [
    'stores.clients has no delete',
    { stores: { clients: { get: noop, set: noop } } },
    '"stores.clients" must implement delete()',
  ],
  ['stores.pending has no take', { stores: { pending: store } }, '"stores.pending" must implement take()'],
  [
    'stores.discovery is undefined',
    { stores: { discovery: undefined } },
    '"stores.discovery" must implement get()',
  ],
  [
    'stores.tokens.lock is not a function',
    { stores: { tokens: { ...store, lock: 1 } } },
    '"stores.tokens.lock" must be a function',
  ],
  [
    'authorizationHandler is not a function',
    { authorizationHandler: 'x' },
    '"authorizationHandler" must be a function',
  ],
  [
    'selectAuthorizationServer is not a function',
    { selectAuthorizationServer: {} },
    '"selectAuthorizationServer" must be a function',
  ],
  ['clock is not a function', { clock: 1 }, '"clock" must be a function'],
  ['logger lacks warn', { logger: { debug: noop } }, '"logger" must have debug() and warn() methods'],
  ['logger is null', { logger: null }, '"logger" must have debug() and warn() methods'],
  ['dpop is true', { dpop: true }, '"dpop" must come from dpop() in @mcp-oauth/core/dpop'],
  [
    'clientKey has no signer',
    { clientKey: {} },
    '"clientKey" must come from privateKeyJwt() in @mcp-oauth/core/jwt',
  ],
  [
    'authorizationServerPolicies is an array',
    { authorizationServerPolicies: [] },
    '"authorizationServerPolicies" must be an object keyed by issuer',
  ],
  [
    'allowPrivateNetworks is a string',
    { allowPrivateNetworks: 'yes' },
    '"allowPrivateNetworks" must be a boolean',
  ],
  ['grant is a string', { grant: 'client_credentials' }, '"grant" must be an object with a "type"'],
  [
    'grant.type is unknown',
    { grant: { type: 'password' } },
    '"grant.type" must be "authorization_code", "device_code", "client_credentials" or "jwt_bearer"',
  ],
  [
    'jwt_bearer has no assertion',
    { grant: { type: 'jwt_bearer' } },
    '"grant.assertion" must be a function for jwt_bearer',
  ],
  [
    'device_code is not from deviceCode()',
    { grant: { type: 'device_code' } },
    '"grant" for device_code must come from deviceCode() in @mcp-oauth/core/device',
  ],
  ['client is a string', { client: 'x' }, '"client" must be an object'],
  [
    'client.redirectUris is a string',
    { client: { redirectUris: 'x' } },
    '"client.redirectUris" must be an array of non-empty strings',
  ],
  [
    'client.preRegistered is an object',
    { client: { preRegistered: { issuer: 'x' } } },
    '"client.preRegistered" must be an array',
  ],
  [
    'client.preRegistered entry lacks clientId',
    { client: { preRegistered: [{ issuer: 'x' }] } },
    '"client.preRegistered" entries need string "issuer" and "clientId"',
  ],
  [
    'client.preRegistered entry is null',
    { client: { preRegistered: [null] } },
    '"client.preRegistered" entries need string "issuer" and "clientId"',
  ],
  [
    'client.preRegistered clientSecret is a number',
    { client: { preRegistered: [{ issuer: 'x', clientId: 'y', clientSecret: 1 }] } },
    '"client.preRegistered[].clientSecret" must be a string',
  ],
  ['client.clientName is a number', { client: { clientName: 1 } }, '"client.clientName" must be a string'],
  [
    'client.clientMetadataUrl is a number',
    { client: { clientMetadataUrl: 1 } },
    '"client.clientMetadataUrl" must be a string',
  ],
  ['client.clientUri is a number', { client: { clientUri: 1 } }, '"client.clientUri" must be a string'],
  ['client.logoUri is a number', { client: { logoUri: 1 } }, '"client.logoUri" must be a string'],
  ['client.softwareId is a number', { client: { softwareId: 1 } }, '"client.softwareId" must be a string'],
  [
    'client.softwareVersion is a number',
    { client: { softwareVersion: 1 } },
    '"client.softwareVersion" must be a string',
  ],
  ['scopes is a string', { scopes: 'mcp:read' }, '"scopes" must be an array of non-empty strings'],
  ['scopes has a non-string', { scopes: [1] }, '"scopes" must be an array of non-empty strings'],
  [
    'authorizationParams is a string',
    { authorizationParams: 'x' },
    '"authorizationParams" must be an object of strings',
  ],
  [
    'authorizationParams sets state',
    { authorizationParams: { state: 'x' } },
    '"authorizationParams" must not set "state": the session sets it',
  ],
  [
    'authorizationParams sets code_challenge',
    { authorizationParams: { code_challenge: 'x' } },
    '"authorizationParams" must not set "code_challenge": the session sets it',
  ],
  [
    'authorizationParams maps to a number',
    { authorizationParams: { prompt: 1 } },
    '"authorizationParams" must map names to strings',
  ],
  [
    'authorizationParams has an empty name',
    { authorizationParams: { '': 'x' } },
    '"authorizationParams" must map names to strings',
  ],
  ['refreshSkewMs is negative', { refreshSkewMs: -1 }, '"refreshSkewMs" must be an integer of at least 0'],
  [
    'pendingAuthorizationTtlMs is zero',
    { pendingAuthorizationTtlMs: 0 },
    '"pendingAuthorizationTtlMs" must be an integer of at least 1',
  ],
  ['timeoutMs is zero', { timeoutMs: 0 }, '"timeoutMs" must be an integer of at least 1'],
  ['timeoutMs is a string', { timeoutMs: '5' }, '"timeoutMs" must be an integer of at least 1'],
  [
    'maxResponseBytes is fractional',
    { maxResponseBytes: 1.5 },
    '"maxResponseBytes" must be an integer of at least 1',
  ],
];

describe('OAuthSession options', () => {
  it.each(CASES)('%s', (_name, options, message) => {
    const input = options === null || Array.isArray(options) ? options : { ...base, ...(options as object) };
    let thrown: unknown;
    try {
      new OAuthSession(input as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ name: 'OAuthClientError', code: 'invalid_options', message });
  });

  it('keys that are not options do not reach the session (no injected binding or tokens)', async () => {
    const tokens = {
      accessToken: 'INJECTED',
      tokenType: 'Bearer',
      grantedScopes: [],
      requestedScopes: [],
      issuedAt: 0,
    };
    const session = new OAuthSession({
      ...base,
      ...({
        tokens,
        storesLoaded: true,
        binding: { discovery: { issuer: 'https://as.example.com' }, client: { clientId: 'x' } },
      } as object),
    });
    const request = await session.beginRequest({ method: 'GET', url: base.serverUrl });
    expect(request.first.headers).toEqual({});
    expect(session.getTokenInfo()).toBeUndefined();
  });

  it('accepts every option in its documented form', () => {
    const session = new OAuthSession({
      ...base,
      serverUrl: new URL('http://127.0.0.1:3000/mcp'),
      grant: { type: 'jwt_bearer', assertion: () => 'assertion' },
      client: {
        redirectUris: ['http://127.0.0.1:8765/callback'],
        preRegistered: [{ issuer: 'https://as.example.com', clientId: 'id', clientSecret: 'secret' }],
        clientName: 'name',
        clientMetadataUrl: 'https://client.example.com/metadata.json',
        clientUri: 'https://client.example.com',
        logoUri: 'https://client.example.com/logo.png',
        softwareId: 'id',
        softwareVersion: '1',
      },
      authorizationHandler: async () => '',
      scopes: ['mcp:read'],
      authorizationParams: { prompt: 'consent' },
      scopeFallback: { authorizationServer: true, defaults: ['openid'] },
      refreshScopes: 'none',
      stepUps: { max: 0, windowMs: 1 },
      refreshSkewMs: 0,
      stores: {
        tokens: { ...store, lock: (_key: string, task: () => Promise<unknown>) => task() },
        pending: { ...store, take: noop },
      } as never,
      selectAuthorizationServer: (servers) => servers[0],
      authorizationServerPolicies: { 'https://as.example.com': { sendResource: false } },
      allowPrivateNetworks: false,
      pendingAuthorizationTtlMs: 1,
      timeoutMs: 1,
      maxResponseBytes: 1,
      logger: { debug: noop, warn: noop },
      clock: () => 0,
    });
    expect(session.serverUrl.href).toBe('http://127.0.0.1:3000/mcp');
  });
});
