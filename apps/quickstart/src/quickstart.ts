/**
 * The quick start's walk through the life of a token, against the demo server on 127.0.0.1:
 * first contact (401 → discovery, registration, authorization, token), a step-up on
 * `403 insufficient_scope`, a refresh once the access token has expired, and sign-out.
 */
import {
  type AuthorizationHandler,
  type OAuthLogEvents,
  type OAuthLogger,
  OAuthSession,
  type TokenInfo,
} from '@mcp-oauth/core';
import { createFetchHttpClient } from './fetch-client.js';
import { startDemoServer } from './server.js';

export interface QuickstartOptions {
  /** Lifetime of the demo server's access tokens. Default 2 s, so the walk can show a refresh. */
  readonly accessTokenLifetimeSeconds?: number;
  /** Where each line of the walk goes. Default `console.log`. */
  readonly log?: (line: string) => void;
}

export interface QuickstartResult {
  /** Requests the server received, keyed `METHOD /path`. */
  readonly requests: Readonly<Record<string, number>>;
  /** What the session held just before signing out. */
  readonly tokenInfo: TokenInfo;
  readonly revoked: boolean;
  /** Every code and token the server issued (for tests that check nothing leaked into the log). */
  readonly issuedSecrets: readonly string[];
}

/** Nothing listens here: the demo's authorization handler reads the redirect instead (see below). */
const CALLBACK_URL = 'http://127.0.0.1:8976/callback';

/**
 * A real CLI opens `authorizationUrl` in the user's browser and waits for the redirect on a
 * loopback callback server at its redirect URI. The demo server approves every request at once,
 * so here the example makes the browser's first request itself and returns where it would go next:
 * the callback URL, carrying `code`, `state` and `iss`.
 */
const approveInstantly: AuthorizationHandler = async ({ authorizationUrl, signal }) => {
  const response = await fetch(authorizationUrl, { redirect: 'manual', signal: signal ?? null });
  await response.body?.cancel();
  const location = response.headers.get('location');
  if (response.status !== 302 || location === null) {
    throw new Error(`the authorization endpoint answered ${response.status} instead of redirecting`);
  }
  return location;
};

export async function runQuickstart(options: QuickstartOptions = {}): Promise<QuickstartResult> {
  const log = options.log ?? console.log;
  const lifetimeSeconds = options.accessTokenLifetimeSeconds ?? 2;
  const server = await startDemoServer({
    accessTokenLifetimeSeconds: lifetimeSeconds,
    onRequest: ({ method, path, status, note }) =>
      log(`     server  ${`${method} ${path}`.padEnd(50)} ${status}${note === undefined ? '' : `  ${note}`}`),
  });
  try {
    // The engine's log events carry no secrets; this prints its decisions on a 401/403 and its refreshes.
    const logger: OAuthLogger = {
      debug: (event, data) => {
        if (event === 'session.refresh') log('     client  → refresh');
        if (event !== 'session.decision') return;
        const decision = data as OAuthLogEvents['session.decision'];
        const error = decision.error === undefined ? '' : ` ${decision.error}`;
        log(`     client  ${decision.status}${error} → ${decision.decision}`);
      },
      warn: (event) => log(`     client  warning: ${event}`),
    };
    const session = new OAuthSession({
      serverUrl: server.mcpUrl,
      httpClient: createFetchHttpClient(),
      client: { clientName: 'mcp-oauth quickstart', redirectUris: [CALLBACK_URL] },
      authorizationHandler: approveInstantly,
      logger,
    });

    /** One MCP request, the way every adapter does it: send what the session says until it says done. */
    async function callMcp(message: object): Promise<{ status: number; body: string }> {
      const request = await session.beginRequest({ method: 'POST', url: server.mcpUrl });
      for (let step = request.first; ; ) {
        const headers = new Headers({ 'content-type': 'application/json' });
        for (const name of step.removeHeaders) headers.delete(name);
        for (const [name, value] of Object.entries(step.headers)) headers.set(name, value);
        const response = await fetch(step.url, {
          method: step.method,
          headers,
          body: step.withBody ? JSON.stringify(message) : null,
          redirect: step.redirect,
        });
        const next = await request.respond({ status: response.status, headers: response.headers });
        if (next.type === 'done') return { status: response.status, body: await response.text() };
        await response.body?.cancel();
        step = next;
      }
    }

    async function call(message: object): Promise<void> {
      const { status, body } = await callMcp(message);
      log(`     result  ${status} ${body}`);
      if (status !== 200) throw new Error(`the MCP server answered ${status}`);
    }

    log(`Demo MCP server and authorization server on ${server.origin}`);
    log('\n  1. tools/list with no token: 401, discovery, registration, authorization, retry');
    await call({ method: 'tools/list' });
    log('\n  2. tools/call "write" with a read-only token: 403 insufficient_scope, step-up, retry');
    await call({ method: 'tools/call', params: { name: 'write' } });
    log(`\n  3. Wait ${lifetimeSeconds} s for the access token to expire, then call again: refresh`);
    await new Promise((resolve) => setTimeout(resolve, lifetimeSeconds * 1000 + 300));
    await call({ method: 'tools/list' });

    const tokenInfo = session.getTokenInfo();
    if (tokenInfo === undefined) throw new Error('the session holds no tokens after the walk');
    log('\n  4. Sign out: revoke the tokens');
    const { revoked } = await session.signOut();
    log(`     client  revoked: ${revoked}`);
    const live = server.liveTokens();
    log(`     server  tokens still accepted: ${live.length === 0 ? 'none' : live.join(', ')}`);

    log('\nRequests per endpoint');
    for (const [endpoint, count] of Object.entries(server.requestCounts())) {
      log(`  ${endpoint.padEnd(50)} ${count}`);
    }
    log('\nToken info before sign-out (the token itself is never printed)');
    log(`  issuer          ${tokenInfo.issuer}`);
    log(`  resource        ${tokenInfo.resource}`);
    log(`  client id       ${tokenInfo.clientId}`);
    log(`  token type      ${tokenInfo.tokenType}`);
    log(`  granted scopes  ${tokenInfo.grantedScopes.join(' ')}`);
    log(`  refresh token   ${tokenInfo.hasRefreshToken ? 'held' : 'none'}`);
    return { requests: server.requestCounts(), tokenInfo, revoked, issuedSecrets: server.issuedSecrets() };
  } finally {
    await server.close();
  }
}
