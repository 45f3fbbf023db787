/**
 * The console logger of @mcp-oauth/node over a whole session of the fetch adapter: with
 * `DEBUG=mcp-oauth*`, each step of discovery, registration, authorization, refresh and step-up
 * shows on a line of its own, and no line holds a token, code, verifier or query string.
 */
import { createFetchHttpClient, withOAuth } from '@mcp-oauth/fetch';
import { createConsoleLogger } from '@mcp-oauth/node';
import { startTestServer, type TestServer } from '@mcp-oauth/testkit';
import { afterEach, expect, it } from 'vitest';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
});

it('shows discovery, registration, authorization, refresh and step-up, one line each, with no secret', async () => {
  server = await startTestServer({ scopesSupported: ['mcp:read', 'mcp:admin', 'offline_access'] });
  server.requireScopes('/mcp/admin', ['mcp:read', 'mcp:admin']);
  const lines: string[] = [];
  const logger = createConsoleLogger({
    env: { DEBUG: 'mcp-oauth*' },
    timestamps: false,
    stream: { write: (text: string) => lines.push(text) },
  });
  const authorizedFetch = withOAuth(fetch, {
    serverUrl: server.mcpUrl,
    httpClient: createFetchHttpClient(),
    client: { clientName: 'logger test', redirectUris: ['http://127.0.0.1/callback'] },
    authorizationHandler: server.authorizationHandler(),
    logger,
  });
  const call = async (path: string) => {
    const response = await authorizedFetch(server!.url(path), { method: 'POST', body: '{"jsonrpc":"2.0"}' });
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
    expect(line.indexOf('\n'), line).toBe(line.length - 1);
    expect(line, 'a URL with a query').not.toMatch(/https?:\/\/\S*\?/);
  }
  const secrets: string[] = server.issuedTokens.flatMap((token) =>
    token.refreshToken === undefined ? [token.accessToken] : [token.accessToken, token.refreshToken],
  );
  for (const record of server.requestsTo('/token', 'POST')) {
    const form = new URLSearchParams(record.text);
    for (const name of ['code', 'code_verifier', 'refresh_token', 'client_secret']) {
      const value = form.get(name);
      if (value !== null) secrets.push(value);
    }
  }
  expect(secrets.length).toBeGreaterThanOrEqual(6);
  const output = lines.join('');
  for (const secret of secrets) expect(output).not.toContain(secret);
});
