/**
 * A short access token lifetime, as the demo uses to show refreshes: the MCP server rejects the
 * token as soon as it expires (both servers share one clock, so there is no tolerance), and the
 * refresh token gets a fresh one.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type DemoServer, startDemoServer } from './start.js';
import {
  bearer,
  callMcp,
  obtainTokens,
  registerClient,
  stringField,
  tokenRequest,
} from './test-utils/oauth.js';

const LIFETIME = 2;

let demo: DemoServer;

beforeAll(async () => {
  demo = await startDemoServer({ autoApprove: true, accessTokenLifetimeSeconds: LIFETIME });
});

afterAll(async () => {
  await demo.close();
});

it('rejects an expired access token with invalid_token, and a refresh brings a working one', async () => {
  const client = await registerClient(demo);
  const token = await obtainTokens(demo, client);
  expect(token.body.expires_in).toBe(LIFETIME);
  await new Promise((resolve) => setTimeout(resolve, (LIFETIME + 1) * 1000));

  const expired = await callMcp(demo, { method: 'tools/list' }, bearer(token));
  expect(expired.status).toBe(401);
  expect(expired.wwwAuthenticate).toContain(
    'error="invalid_token", error_description="the access token has expired"',
  );

  const refreshed = await tokenRequest(demo, {
    grant_type: 'refresh_token',
    refresh_token: stringField(token.body, 'refresh_token'),
    client_id: client.client_id,
  });
  expect(refreshed.status).toBe(200);
  expect((await callMcp(demo, { method: 'tools/list' }, bearer(refreshed))).status).toBe(200);
});
