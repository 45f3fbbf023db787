/**
 * The device authorization grant (RFC 8628) at the demo's authorization server, driven with plain
 * `fetch`: a client registered for the grant asks for a device code for the MCP server, a person
 * (the headless helper) confirms it at the verification URI, and the poll returns tokens the MCP
 * server accepts — or `access_denied` when the person aborts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideDeviceAuthorization } from './headless.js';
import { type DemoServer, startDemoServer } from './start.js';
import {
  bearer,
  callMcp,
  decodeJwtPayload,
  type RegisteredClient,
  registerClient,
  stringField,
  tokenRequest,
} from './test-utils/oauth.js';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

let demo: DemoServer;
let client: RegisteredClient;

beforeAll(async () => {
  demo = await startDemoServer({ autoApprove: true, devicePollIntervalSeconds: 2 });
  client = await registerClient(demo, {
    client_name: 'Device Client',
    grant_types: [DEVICE_GRANT, 'refresh_token'],
    response_types: [],
    redirect_uris: [],
  });
});

afterAll(async () => {
  await demo.close();
});

async function deviceAuthorization(parameters: Record<string, string>) {
  const response = await fetch(`${demo.issuer}/device/auth`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(parameters),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function poll(deviceCode: string) {
  return tokenRequest(demo, {
    grant_type: DEVICE_GRANT,
    device_code: deviceCode,
    client_id: client.client_id,
  });
}

describe('the device authorization grant', () => {
  it('advertises the device authorization endpoint and the grant type', async () => {
    const metadata = (await (await fetch(demo.authorizationServerMetadataUrl)).json()) as Record<
      string,
      unknown
    >;
    expect(metadata.device_authorization_endpoint).toBe(`${demo.issuer}/device/auth`);
    expect(metadata.grant_types_supported).toContain(DEVICE_GRANT);
  });

  it('issues a code with the configured interval, and tokens for the MCP server once the person confirms', async () => {
    const issued = await deviceAuthorization({
      client_id: client.client_id,
      scope: 'mcp:tools offline_access',
      resource: demo.mcpUrl,
    });
    expect(issued.status).toBe(200);
    expect(issued.body).toMatchObject({
      device_code: expect.any(String),
      user_code: expect.stringMatching(/^[A-Z]{4}-[A-Z]{4}$/),
      verification_uri: `${demo.issuer}/device`,
      verification_uri_complete: expect.stringContaining(`${demo.issuer}/device?user_code=`),
      expires_in: expect.any(Number),
      interval: 2,
    });
    const deviceCode = stringField(issued.body, 'device_code');

    const early = await poll(deviceCode);
    expect(early).toEqual({ status: 400, body: expect.objectContaining({ error: 'authorization_pending' }) });

    await decideDeviceAuthorization(stringField(issued.body, 'verification_uri_complete'));
    const token = await poll(deviceCode);
    expect(token.status).toBe(200);
    expect(token.body.refresh_token).toEqual(expect.any(String));
    const claims = decodeJwtPayload(stringField(token.body, 'access_token'));
    expect(claims.aud).toBe(demo.mcpUrl);
    expect(claims.client_id).toBe(client.client_id);
    expect(String(claims.scope).split(' ')).toContain('mcp:tools');
    expect((await callMcp(demo, { method: 'tools/list' }, bearer(token))).status).toBe(200);

    // The refresh token renews as for any other grant; the device code is used up (and a replay
    // revokes the grant, as for a replayed authorization code).
    const refreshed = await tokenRequest(demo, {
      grant_type: 'refresh_token',
      refresh_token: stringField(token.body, 'refresh_token'),
      client_id: client.client_id,
    });
    expect(refreshed.status).toBe(200);
    expect((await poll(deviceCode)).body.error).toBe('invalid_grant');
    expect((await callMcp(demo, { method: 'tools/list' }, bearer(refreshed))).status).toBe(401);
  });

  it('answers access_denied when the person aborts at the confirmation page', async () => {
    const issued = await deviceAuthorization({
      client_id: client.client_id,
      scope: 'mcp:tools',
      resource: demo.mcpUrl,
    });
    await decideDeviceAuthorization(stringField(issued.body, 'verification_uri_complete'), {
      decision: 'deny',
    });
    const denied = await poll(stringField(issued.body, 'device_code'));
    expect(denied.status).toBe(400);
    expect(denied.body.error).toBe('access_denied');
  });

  it('requires the resource parameter (RFC 8707), as the authorization endpoint does', async () => {
    const issued = await deviceAuthorization({ client_id: client.client_id, scope: 'mcp:tools' });
    expect(issued.status).toBe(400);
    expect(issued.body.error).toBe('invalid_target');
  });

  it('refuses a client that did not register for the grant', async () => {
    const browserClient = await registerClient(demo);
    const issued = await deviceAuthorization({
      client_id: browserClient.client_id,
      scope: 'mcp:tools',
      resource: demo.mcpUrl,
    });
    // oidc-provider says invalid_request where RFC 8628 §3.2 would name unauthorized_client.
    expect(issued.status).toBe(400);
    expect(issued.body.error).toBe('invalid_request');
  });

  it('counts the device endpoints', () => {
    expect(demo.stats().deviceAuthorization).toBeGreaterThanOrEqual(4);
    expect(demo.stats().deviceVerification).toBeGreaterThanOrEqual(4);
  });
});
