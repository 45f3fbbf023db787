/**
 * The consent knobs a client test needs: a person who grants less than asked (`grantScopes`), and
 * an authorization server that issues no refresh tokens (`issueRefreshTokens: false`).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ConsentRequest } from './options.js';
import { ADMIN_SCOPE, TOOLS_SCOPE } from './scopes.js';
import { type DemoServer, startDemoServer } from './start.js';
import {
  bearer,
  callMcp,
  decodeJwtPayload,
  obtainTokens,
  registerClient,
  stringField,
} from './test-utils/oauth.js';

let demo: DemoServer;
const requests: ConsentRequest[] = [];

beforeAll(async () => {
  demo = await startDemoServer({
    autoApprove: true,
    dpop: false,
    issueRefreshTokens: false,
    grantScopes: (request) => {
      requests.push(request);
      // Never admin; and a scope that was not asked for, which must not be granted either.
      return [...request.scopes.filter((scope) => scope !== ADMIN_SCOPE), 'offline_access'];
    },
  });
});

afterAll(async () => {
  await demo.close();
});

it('grants only the scopes grantScopes keeps, in one pass through consent, and says so in the token response', async () => {
  const client = await registerClient(demo);
  requests.length = 0;
  const token = await obtainTokens(demo, client, { scope: `${TOOLS_SCOPE} ${ADMIN_SCOPE}` });

  expect(requests).toEqual([
    { clientId: client.client_id, scopes: [TOOLS_SCOPE, ADMIN_SCOPE], resources: [demo.mcpUrl] },
  ]);
  expect(token.status).toBe(200);
  expect(token.body.scope).toBe(TOOLS_SCOPE);
  expect(decodeJwtPayload(stringField(token.body, 'access_token')).scope).toBe(TOOLS_SCOPE);
  expect((await callMcp(demo, { method: 'tools/list' }, bearer(token))).status).toBe(200);
  const admin = await callMcp(
    demo,
    { method: 'tools/call', params: { name: 'admin_stats', arguments: {} } },
    bearer(token),
  );
  expect(admin.status).toBe(403);
  expect(admin.wwwAuthenticate).toContain('error="insufficient_scope"');
});

it('issues no refresh token with issueRefreshTokens off, to a client registered for the grant', async () => {
  const client = await registerClient(demo, { grant_types: ['authorization_code', 'refresh_token'] });
  const token = await obtainTokens(demo, client, { scope: TOOLS_SCOPE });
  expect(token.status).toBe(200);
  expect(token.body).not.toHaveProperty('refresh_token');
  expect(typeof token.body.access_token).toBe('string');
});
