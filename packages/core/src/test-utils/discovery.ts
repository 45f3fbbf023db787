/** Shared set-up for the discovery tests. */
import { isOAuthClientError, type OAuthClientError } from '../errors.js';
import { createHttpContext } from '../http.js';
import type { OAuthLogger } from '../logger.js';
import { FakeHttpClient } from './fake-http.js';

export const SERVER = new URL('https://mcp.example.com/mcp');
export const PRM_INSERTED = 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp';
export const PRM_ROOT = 'https://mcp.example.com/.well-known/oauth-protected-resource';
export const CHALLENGE = 'https://mcp.example.com/metadata/prm.json';
export const AUTH = 'https://auth.example.com';
export const AUTH_OAUTH = 'https://auth.example.com/.well-known/oauth-authorization-server';
export const AUTH_OPENID = 'https://auth.example.com/.well-known/openid-configuration';

export interface LogEntry {
  level: 'debug' | 'warn';
  event: string;
  data: Record<string, unknown> | undefined;
}

export function setup() {
  const fake = new FakeHttpClient();
  const events: LogEntry[] = [];
  const logger: OAuthLogger = {
    debug: (event, data) => events.push({ level: 'debug', event, data }),
    warn: (event, data) => events.push({ level: 'warn', event, data }),
  };
  const context = createHttpContext(fake, { logger });
  return { fake, events, logger, context };
}

export function prm(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { resource: 'https://mcp.example.com/mcp', authorization_servers: [AUTH], ...overrides };
}

export function asMetadata(issuer = AUTH, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    registration_endpoint: `${issuer}/register`,
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
    ...overrides,
  };
}

export async function caught(promise: Promise<unknown>): Promise<OAuthClientError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!isOAuthClientError(error)) throw new Error(`expected an OAuthClientError, got ${String(error)}`);
  return error;
}

export function thrown(run: () => unknown): OAuthClientError {
  try {
    run();
  } catch (error) {
    if (isOAuthClientError(error)) return error;
    throw error;
  }
  throw new Error('expected an OAuthClientError');
}
