import { OAuthSession } from '@mcp-oauth/core';
import { createFetchHttpClient, withOAuth } from '@mcp-oauth/fetch';
import { startTestServer, type TestServer } from '@mcp-oauth/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { type ConsoleLoggerOptions, createConsoleLogger } from './console-logger.js';

function capture(options: ConsoleLoggerOptions = {}) {
  const lines: string[] = [];
  const logger = createConsoleLogger({
    env: {},
    timestamps: false,
    stream: { write: (text: string) => lines.push(text) },
    ...options,
  });
  return { logger, lines };
}

describe('createConsoleLogger: levels and DEBUG', () => {
  it('writes warnings only by default', () => {
    const { logger, lines } = capture();
    logger.debug('session.refresh', { issuer: 'https://as.example' });
    logger.warn('session.revocation_failed', { hint: 'refresh_token', code: 'network_error' });
    expect(lines).toEqual([
      'mcp-oauth:session warn session.revocation_failed hint=refresh_token code=network_error\n',
    ]);
  });

  it('writes every event at level debug', () => {
    const { logger, lines } = capture({ level: 'debug' });
    logger.debug('session.refresh', { issuer: 'https://as.example' });
    logger.warn('discovery.pkce_metadata_missing', { issuer: 'https://as.example' });
    expect(lines).toEqual([
      'mcp-oauth:session debug session.refresh issuer=https://as.example\n',
      'mcp-oauth:discovery warn discovery.pkce_metadata_missing issuer=https://as.example\n',
    ]);
  });

  it('writes nothing when silent, whatever DEBUG says', () => {
    const { logger, lines } = capture({ level: 'silent', env: { DEBUG: '*' } });
    logger.debug('session.refresh', { issuer: 'https://as.example' });
    logger.warn('session.revocation_failed', { hint: 'refresh_token', code: 'network_error' });
    expect(lines).toEqual([]);
  });

  it.each([
    ['mcp-oauth*', ['discovery.as.found', 'session.refresh', 'token.request']],
    ['mcp-oauth:session', ['session.refresh']],
    ['mcp-oauth*,-mcp-oauth:token', ['discovery.as.found', 'session.refresh']],
    ['express:*', []],
  ])('DEBUG=%s adds the debug lines of the areas it names', (debug, expected) => {
    const { logger, lines } = capture({ env: { DEBUG: debug } });
    for (const event of ['discovery.as.found', 'session.refresh', 'token.request']) logger.debug(event, {});
    expect(lines.map((line) => line.trimEnd().split(' ')[2])).toEqual(expected);
  });

  it('reads DEBUG from process.env by default', () => {
    const previous = process.env.DEBUG;
    process.env.DEBUG = 'mcp-oauth:session';
    try {
      const lines: string[] = [];
      const logger = createConsoleLogger({
        timestamps: false,
        stream: { write: (text) => lines.push(text) },
      });
      logger.debug('session.refresh', {});
      logger.debug('token.request', {});
      expect(lines).toEqual(['mcp-oauth:session debug session.refresh\n']);
    } finally {
      if (previous === undefined) delete process.env.DEBUG;
      else process.env.DEBUG = previous;
    }
  });

  it('starts lines with the time, and colours them on a terminal unless NO_COLOR is set', () => {
    const at = Date.UTC(2026, 4, 1, 9, 30, 12, 345);
    const plain = capture({ timestamps: true, clock: () => at, level: 'debug' });
    plain.logger.debug('session.refresh', {});
    expect(plain.lines).toEqual(['2026-05-01T09:30:12.345Z mcp-oauth:session debug session.refresh\n']);

    const lines: string[] = [];
    const terminal = { isTTY: true, write: (text: string) => lines.push(text) };
    createConsoleLogger({ stream: terminal, env: {}, timestamps: false }).warn('session.refresh', {});
    createConsoleLogger({ stream: terminal, env: { NO_COLOR: '1' }, timestamps: false }).warn(
      'session.refresh',
      {},
    );
    expect(lines[0]).toBe('\u001b[33mmcp-oauth:session\u001b[0m \u001b[33mwarn\u001b[0m session.refresh\n');
    expect(lines[1]).toBe('mcp-oauth:session warn session.refresh\n');
  });

  it('never throws, even when its stream does', () => {
    const logger = createConsoleLogger({
      env: {},
      stream: {
        write() {
          throw new Error('EPIPE');
        },
      },
    });
    expect(() => logger.warn('session.refresh', {})).not.toThrow();
  });

  it('refuses an unknown level', () => {
    expect(() => createConsoleLogger({ level: 'verbose' as 'debug' })).toThrow(/level must be one of/);
  });
});

describe('createConsoleLogger with a session', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
  });

  it('shows discovery, registration, authorization, refresh and step-up, one line each, with no secret', async () => {
    server = await startTestServer({ scopesSupported: ['mcp:read', 'mcp:admin', 'offline_access'] });
    server.requireScopes('/mcp/admin', ['mcp:read', 'mcp:admin']);
    const { logger, lines } = capture({ env: { DEBUG: 'mcp-oauth*' } });
    const session = new OAuthSession({
      serverUrl: server.mcpUrl,
      httpClient: createFetchHttpClient(),
      client: { clientName: 'logger test', redirectUris: ['http://127.0.0.1/callback'] },
      authorizationHandler: server.authorizationHandler(),
      logger,
    });
    const authorizedFetch = withOAuth(session);
    const call = async (path: string) => {
      const response = await authorizedFetch(server!.url(path), {
        method: 'POST',
        body: '{"jsonrpc":"2.0"}',
      });
      await response.body?.cancel();
      return response.status;
    };

    expect(await call('/mcp')).toBe(200); // discovery, registration, authorization
    server.revokeAllAccessTokens();
    expect(await call('/mcp')).toBe(200); // refresh
    expect(await call('/mcp/admin')).toBe(200); // step-up

    const events = lines.map((line) => line.trimEnd().split(' ')[2]);
    for (const step of [
      'discovery.prm.found',
      'discovery.as.found',
      'registration.dynamic',
      'session.authorization_started',
      'token.response', // the authorization code redeemed
      'session.refresh',
      'session.step_up',
    ]) {
      expect(events, step).toContain(step);
    }
    for (const line of lines) {
      expect(line.endsWith('\n') && line.indexOf('\n') === line.length - 1, line).toBe(true);
      expect(line, 'a URL with a query').not.toMatch(/https?:\/\/\S*\?/);
    }
    const secrets = server.issuedTokens
      .flatMap((token) => [token.accessToken, token.refreshToken ?? []])
      .flat();
    const tokenRequests = server
      .requestsTo('/token', 'POST')
      .map((record) => new URLSearchParams(record.text));
    for (const form of tokenRequests) {
      for (const name of ['code', 'code_verifier', 'refresh_token', 'client_secret']) {
        const value = form.get(name);
        if (value !== null) secrets.push(value);
      }
    }
    expect(secrets.length).toBeGreaterThanOrEqual(6);
    const output = lines.join('');
    for (const secret of secrets) expect(output).not.toContain(secret);
  });
});
