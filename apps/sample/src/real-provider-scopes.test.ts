/**
 * Issue 12, items 3 and 4, against a real authorization server (the demo's oidc-provider) and the
 * MCP SDK's resource server: the scopes a session keeps when it must authorize again, and a
 * step-up the user grants only in part. What oidc-provider received is read at its consent step
 * (`grantScopes` sees the authorization request as oidc-provider parsed it); what it granted, from
 * the token the resource server was shown.
 */
import { isOAuthClientError, type OAuthClientError } from '@mcp-oauth/core';
import {
  ADMIN_SCOPE,
  ADMIN_STATS_TOOL,
  approveAuthorization,
  type ConsentRequest,
  type DemoServer,
  type DemoServerOptions,
  startDemoServer,
  TOOLS_SCOPE,
} from '@mcp-oauth/demo-server';
import { withOAuth } from '@mcp-oauth/fetch';
import { createLoopbackAuthorizationHandler, type LoopbackAuthorization } from '@mcp-oauth/node';
import { afterEach, describe, expect, it } from 'vitest';

/** A demo server, a client session against it, and what each side saw. */
interface Run {
  readonly demo: DemoServer;
  readonly loopback: LoopbackAuthorization;
  readonly authorizedFetch: ReturnType<typeof withOAuth>;
  /** The scopes of each authorization request, as oidc-provider's consent step received them. */
  readonly asked: string[][];
  /** POSTs the MCP server answered. */
  readonly mcpPosts: { count: number };
  /** The access token the last MCP request carried. */
  readonly sent: { token: string | undefined };
}

const runs: Run[] = [];

afterEach(async () => {
  for (const run of runs.splice(0)) {
    await run.loopback.close();
    await run.demo.close();
  }
});

async function start(
  options: DemoServerOptions & { grant?: (request: ConsentRequest) => readonly string[] },
): Promise<Run> {
  const asked: string[][] = [];
  const mcpPosts = { count: 0 };
  const sent: { token: string | undefined } = { token: undefined };
  const { grant, ...demoOptions } = options;
  const demo = await startDemoServer({
    autoApprove: true,
    dpop: false,
    ...demoOptions,
    grantScopes: (request) => {
      asked.push([...request.scopes]);
      return grant === undefined ? request.scopes : grant(request);
    },
    onRequest: (event) => {
      if (event.server === 'mcp' && event.endpoint === 'mcp' && event.method === 'POST') mcpPosts.count++;
    },
  });
  const loopback = await createLoopbackAuthorizationHandler({ open: approveAuthorization });
  // The fetch under the adapter: it sees each request as sent, Authorization header included.
  const observed: typeof fetch = (input, init) => {
    const authorization = new Headers(init?.headers).get('authorization');
    if (String(input) === demo.mcpUrl && authorization !== null) {
      sent.token = authorization.replace(/^Bearer /, '');
    }
    return fetch(input, init);
  };
  const authorizedFetch = withOAuth(observed, {
    serverUrl: demo.mcpUrl,
    client: { clientName: 'scopes test', redirectUris: [loopback.redirectUri] },
    authorizationHandler: loopback.handler,
  });
  const run: Run = { demo, loopback, authorizedFetch, asked, mcpPosts, sent };
  runs.push(run);
  return run;
}

let nextId = 1;

/** One JSON-RPC request through the adapter: the HTTP status and the JSON-RPC result. */
async function mcp(
  run: Run,
  method: string,
  params?: Record<string, unknown>,
): Promise<{ status: number; result: Record<string, unknown> | undefined }> {
  const response = await run.authorizedFetch(run.demo.mcpUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, ...(params ? { params } : {}) }),
  });
  const body = (await response.json()) as { result?: Record<string, unknown> };
  return { status: response.status, result: body.result };
}

const callAdminStats = (run: Run) => mcp(run, 'tools/call', { name: ADMIN_STATS_TOOL, arguments: {} });

/** The claims of a JWT access token (the demo's are RFC 9068 JWTs), as the resource server reads them. */
function claimsOf(token: string | undefined): { scope?: string; client_id?: string; exp?: number } {
  return JSON.parse(Buffer.from(token?.split('.')[1] ?? '', 'base64url').toString('utf8'));
}

const scopesOf = (token: string | undefined) => (claimsOf(token).scope ?? '').split(' ').sort();

/** Revokes the access token at the authorization server's revocation endpoint (RFC 7009), as its client. */
async function revoke(run: Run, token: string | undefined): Promise<void> {
  const response = await fetch(`${run.demo.issuer}/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      token: token ?? '',
      token_type_hint: 'access_token',
      client_id: String(claimsOf(token).client_id),
    }),
  });
  await response.body?.cancel();
  expect(response.status).toBe(200);
}

/** Waits until the access token has expired at the resource server (both servers share the clock). */
async function expire(_run: Run, token: string | undefined): Promise<void> {
  const expiresAt = (claimsOf(token).exp ?? 0) * 1000;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - Date.now()) + 1_000));
}

describe('scopes are kept on re-authorization (no refresh token)', () => {
  it.each([
    ['a revoked', revoke, {}],
    ['an expired', expire, { accessTokenLifetimeSeconds: 4 }],
  ] as const)(
    '%s token that had mcp:admin is replaced by one that has it again',
    async (_name, end, options) => {
      const run = await start({ issueRefreshTokens: false, ...options });

      // The first token: the 401 challenge names mcp:tools. Then the admin tool's 403 steps it up.
      expect((await mcp(run, 'tools/list')).status).toBe(200);
      const admin = await callAdminStats(run);
      expect(admin.status).toBe(200);
      expect(admin.result?.isError).toBeUndefined();
      expect(run.asked).toEqual([[TOOLS_SCOPE], [TOOLS_SCOPE, ADMIN_SCOPE]]);
      expect(scopesOf(run.sent.token)).toEqual([ADMIN_SCOPE, TOOLS_SCOPE]);
      expect(run.authorizedFetch.oauthSession.getTokenInfo()?.hasRefreshToken).toBe(false);

      // The token dies; the MCP server's 401 for the next request names mcp:tools only.
      const held = run.sent.token;
      await end(run, held);
      expect((await mcp(run, 'tools/list')).status).toBe(200);

      // oidc-provider was asked for every scope held, not just the challenged one, and granted them.
      expect(run.asked).toHaveLength(3);
      expect([...(run.asked[2] ?? [])].sort()).toEqual([ADMIN_SCOPE, TOOLS_SCOPE]);
      expect(run.sent.token).not.toBe(held);
      expect(scopesOf(run.sent.token)).toEqual([ADMIN_SCOPE, TOOLS_SCOPE]);
      expect([...(run.authorizedFetch.oauthSession.getTokenInfo()?.grantedScopes ?? [])].sort()).toEqual([
        ADMIN_SCOPE,
        TOOLS_SCOPE,
      ]);

      // So the admin tool works again with no further authorization.
      const again = await callAdminStats(run);
      expect(again.status).toBe(200);
      expect(again.result?.isError).toBeUndefined();
      expect(run.asked).toHaveLength(3);
    },
  );
});

describe('a step-up the authorization server grants in part', () => {
  it('fails at once with insufficient_scope naming required and granted scopes, without retrying the resource', async () => {
    const run = await start({ grant: (request) => request.scopes.filter((scope) => scope !== ADMIN_SCOPE) });
    expect((await mcp(run, 'tools/list')).status).toBe(200);

    const before = run.mcpPosts.count;
    const error = await callAdminStats(run).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(isOAuthClientError(error, 'insufficient_scope')).toBe(true);
    expect((error as OAuthClientError).scopes).toEqual({
      required: [TOOLS_SCOPE, ADMIN_SCOPE],
      granted: [TOOLS_SCOPE],
    });
    // The resource saw the first tools/call only: no retry with a token that cannot pass.
    expect(run.mcpPosts.count).toBe(before + 1);

    // oidc-provider was asked for mcp:admin, and the consent withheld it from the token.
    expect(run.asked).toEqual([[TOOLS_SCOPE], [TOOLS_SCOPE, ADMIN_SCOPE]]);
    expect(run.authorizedFetch.oauthSession.getTokenInfo()?.grantedScopes).toEqual([TOOLS_SCOPE]);

    // The partly granted token still serves what it was granted for, with no new authorization.
    expect((await mcp(run, 'tools/list')).status).toBe(200);
    expect(scopesOf(run.sent.token)).toEqual([TOOLS_SCOPE]);
    expect(run.asked).toHaveLength(2);
  });
});
