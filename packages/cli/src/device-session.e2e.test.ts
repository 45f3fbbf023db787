/**
 * The device authorization grant end to end, in process: core's `OAuthSession` with
 * `grant: deviceCode({ onUserCode })`, the fetch adapter, and the demo server's oidc-provider —
 * discovery, a registration for the grant, the code shown, the person confirming, polling, MCP
 * requests with the token, and a refresh once it expires.
 */
import { isOAuthClientError, OAuthSession } from '@mcp-oauth/core';
import { type DeviceCodePrompt, deviceCode } from '@mcp-oauth/core/device';
import { type DemoServer, decideDeviceAuthorization, startDemoServer } from '@mcp-oauth/demo-server';
import { createFetchHttpClient, withOAuth } from '@mcp-oauth/fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const LIFETIME_SECONDS = 4;
let demo: DemoServer;

beforeAll(async () => {
  demo = await startDemoServer({
    autoApprove: true,
    devicePollIntervalSeconds: 1,
    accessTokenLifetimeSeconds: LIFETIME_SECONDS,
  });
});

afterAll(async () => {
  await demo?.close();
});

function deviceSession(onUserCode: (prompt: DeviceCodePrompt) => void | Promise<void>) {
  return new OAuthSession({
    serverUrl: demo.mcpUrl,
    httpClient: createFetchHttpClient(),
    grant: deviceCode({ onUserCode }),
    client: { clientName: 'device e2e' },
  });
}

async function listTools(oauthFetch: typeof fetch): Promise<{ status: number; names: string[] }> {
  const response = await oauthFetch(demo.mcpUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
  const body = (await response.json()) as { result?: { tools?: { name: string }[] } };
  return { status: response.status, names: (body.result?.tools ?? []).map((tool) => tool.name) };
}

describe('the device authorization grant against oidc-provider', () => {
  it('signs in on the first request, serves MCP requests, and refreshes after expiry', async () => {
    const prompts: DeviceCodePrompt[] = [];
    const session = deviceSession(async (prompt) => {
      prompts.push(prompt);
      // The person, on another device; not awaited, as a person is not.
      void decideDeviceAuthorization(prompt.verificationUriComplete!);
    });
    const oauthFetch = withOAuth(fetch, session);

    expect(await listTools(oauthFetch)).toEqual({ status: 200, names: ['echo', 'admin_stats'] });
    expect(prompts).toHaveLength(1);
    expect(prompts[0]).toMatchObject({
      userCode: expect.stringMatching(/^[A-Z]{4}-[A-Z]{4}$/),
      verificationUri: `${demo.issuer}/device`,
      scopes: ['mcp:tools', 'offline_access'],
    });
    const info = session.getTokenInfo()!;
    expect(info).toMatchObject({ issuer: demo.issuer, resource: demo.mcpUrl, hasRefreshToken: true });
    const stats = demo.stats();
    expect(stats.registration).toBe(1);
    expect(stats.deviceAuthorization).toBe(1);

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, info.expiresAt! - Date.now()) + 500));
    const tokenRequests = demo.stats().token;
    expect(await listTools(oauthFetch)).toEqual({ status: 200, names: ['echo', 'admin_stats'] });
    expect(demo.stats().token).toBe(tokenRequests + 1); // one refresh
    expect(demo.stats().deviceAuthorization).toBe(1); // no new device code
    expect(prompts).toHaveLength(1);
    expect(session.getTokenInfo()!.expiresAt).toBeGreaterThan(info.expiresAt!);
  });

  it('fails the request with authorization_denied when the person aborts', async () => {
    const session = deviceSession((prompt) => {
      void decideDeviceAuthorization(prompt.verificationUriComplete!, { decision: 'deny' });
    });
    const error = await listTools(withOAuth(fetch, session)).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(isOAuthClientError(error, 'authorization_denied')).toBe(true);
    expect(session.getTokenInfo()).toBeUndefined();
  });
});
