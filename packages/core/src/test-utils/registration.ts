/** Shared set-up for the registration tests. */
import { inspect } from 'node:util';
import { expect } from 'vitest';
import { isOAuthClientError, type OAuthClientError } from '../errors.js';
import { createHttpContext, type HttpContext } from '../http.js';
import type { OAuthLogger } from '../logger.js';
import type { ResolveClientInput } from '../registration/resolve-client.js';
import { MemoryStore, type OAuthStore } from '../stores.js';
import type { AuthorizationServerMetadata, ClientInformation } from '../types.js';
import { FakeHttpClient } from './fake-http.js';

export const ISSUER = 'https://auth.example';
export const OTHER_ISSUER = 'https://other-auth.example';
export const REGISTRATION_ENDPOINT = 'https://auth.example/register';
export const OTHER_REGISTRATION_ENDPOINT = 'https://other-auth.example/register';
export const LOOPBACK_REDIRECT = 'http://127.0.0.1:33418/callback';
export const HTTPS_REDIRECT = 'https://app.example/oauth/callback';
export const METADATA_URL = 'https://app.example/oauth/client.json';
export const NOW = 1_750_000_000_000;
export const NOW_SECONDS = NOW / 1000;
export const AUTH_CODE_GRANTS = ['authorization_code', 'refresh_token'];

export function serverMetadata(
  extra: Partial<AuthorizationServerMetadata> = {},
  issuer = ISSUER,
): AuthorizationServerMetadata {
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    registration_endpoint: `${issuer}/register`,
    code_challenge_methods_supported: ['S256'],
    ...extra,
  };
}

export interface LogEntry {
  level: 'debug' | 'warn';
  event: string;
  data: Record<string, unknown> | undefined;
}

export function setup() {
  const http = new FakeHttpClient();
  const logs: LogEntry[] = [];
  const logger: OAuthLogger = {
    debug: (event, data) => logs.push({ level: 'debug', event, data }),
    warn: (event, data) => logs.push({ level: 'warn', event, data }),
  };
  const context: HttpContext = createHttpContext(http, { logger });
  const store = new MemoryStore<ClientInformation>();
  return { http, logs, context, store };
}

export function input(
  store: OAuthStore<ClientInformation>,
  overrides: Partial<ResolveClientInput> = {},
): ResolveClientInput {
  return {
    issuer: ISSUER,
    metadata: serverMetadata(),
    client: { redirectUris: [LOOPBACK_REDIRECT] },
    grantTypes: AUTH_CODE_GRANTS,
    store,
    now: NOW,
    ...overrides,
  };
}

export function storedClient(overrides: Partial<ClientInformation> = {}): ClientInformation {
  return {
    issuer: ISSUER,
    clientId: 'stored-client',
    tokenEndpointAuthMethod: 'none',
    redirectUris: [LOOPBACK_REDIRECT],
    source: 'dynamic',
    ...overrides,
  };
}

export async function caught(promise: Promise<unknown>): Promise<OAuthClientError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(isOAuthClientError(error)).toBe(true);
  return error as OAuthClientError;
}

export function caughtSync(run: () => unknown): OAuthClientError {
  let error: unknown;
  try {
    run();
  } catch (reason) {
    error = reason;
  }
  expect(isOAuthClientError(error)).toBe(true);
  return error as OAuthClientError;
}

export function expectNoSecret(error: OAuthClientError, secret = 'SECRET'): void {
  expect(error.message).not.toContain(secret);
  expect(JSON.stringify(error)).not.toContain(secret);
  expect(inspect(error, { showHidden: true, depth: 5 })).not.toContain(secret);
  expect(String(error.cause ?? '')).not.toContain(secret);
}

export function jsonBody(http: FakeHttpClient, index = 0): unknown {
  const body = http.requests[index]?.body;
  expect(body).toBeDefined();
  return JSON.parse(body!);
}

// ---------------------------------------------------------------------------------------------
