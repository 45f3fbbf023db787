/**
 * The consent page in a real browser: Debian chromium driven by playwright-core opens the
 * authorization URL, reads the page, clicks Approve or Deny, and lands on a loopback redirect URI
 * served by the test. Set DEMO_SCREENSHOT_DIR to keep the consent page screenshot.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoServer, startDemoServer } from './start.js';
import {
  authorizationUrl,
  callMcp,
  createPkce,
  type Pkce,
  type RegisteredClient,
  registerClient,
  stringField,
  type TokenResponse,
  tokenRequest,
} from './test-utils/oauth.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const CLIENT_NAME = 'Browser Test Client';

let demo: DemoServer;
let client: RegisteredClient;
let callbackServer: Server;
let callbackUrl: string;
let userDataDir: string;
let context: BrowserContext;
let screenshotDir: string;

beforeAll(async () => {
  // Not skipped when chromium is missing: the browser test is part of the suite.
  expect(existsSync(CHROMIUM), `${CHROMIUM} is required (apt-get install chromium)`).toBe(true);
  demo = await startDemoServer({ autoApprove: false });
  callbackServer = createServer((_request, response) => {
    response
      .writeHead(200, { 'content-type': 'text/plain; charset=utf-8' })
      .end('Done. You can close this window.');
  });
  await new Promise<void>((resolve) => callbackServer.listen(0, '127.0.0.1', resolve));
  callbackUrl = `http://127.0.0.1:${(callbackServer.address() as AddressInfo).port}/callback`;
  client = await registerClient(demo, { client_name: CLIENT_NAME, redirect_uris: [callbackUrl] });
  userDataDir = await mkdtemp(join(tmpdir(), 'demo-server-chromium-'));
  screenshotDir = process.env.DEMO_SCREENSHOT_DIR ?? userDataDir;
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
}, 60_000);

afterAll(async () => {
  await context?.close();
  await new Promise<void>((resolve) => (callbackServer ? callbackServer.close(() => resolve()) : resolve()));
  await demo?.close();
  if (userDataDir !== undefined) await rm(userDataDir, { recursive: true, force: true });
});

async function openConsentPage(state: string, scope: string, pkce: Pkce = createPkce()) {
  const page = await context.newPage();
  const url = authorizationUrl(demo, {
    clientId: client.client_id,
    pkce,
    state,
    scope,
    resource: demo.mcpUrl,
    redirectUri: callbackUrl,
  });
  const response = await page.goto(url);
  expect(response?.status()).toBe(200);
  expect(new URL(page.url()).pathname).toMatch(/^\/interaction\//);
  return page;
}

function callbackParameters(url: string): URLSearchParams {
  const landed = new URL(url);
  expect(`${landed.origin}${landed.pathname}`).toBe(callbackUrl);
  return landed.searchParams;
}

describe('consent page in chromium', () => {
  it('shows who asks, for which scopes, on which server; Approve lands on the redirect URI with code, state, iss', async () => {
    const page = await openConsentPage('approve-state', 'mcp:tools mcp:admin');
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
      `Allow ${CLIENT_NAME} to access the demo MCP server?`,
    );
    // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what a person reads (Playwright's innerText, not the DOM's)
    const text = (await page.locator('main').innerText()).replace(/\s+/g, ' ');
    expect(text).toContain('mcp:tools — Use the server’s tools');
    expect(text).toContain('mcp:admin — Read the server’s administrative statistics');
    expect(text).toContain('offline_access — Stay connected');
    expect(text).toContain(`mcp-oauth demo MCP server: ${demo.mcpUrl}`);
    expect(text).toContain(`returns to ${callbackUrl}`);
    expect(text).toContain(client.client_id);

    const screenshot = join(screenshotDir, 'consent-page.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    expect((await stat(screenshot)).size).toBeGreaterThan(1000);

    await Promise.all([
      page.waitForURL((url) => url.href.startsWith(callbackUrl)),
      page.getByRole('button', { name: 'Approve' }).click(),
    ]);
    const parameters = callbackParameters(page.url());
    expect(parameters.get('code')).toEqual(expect.any(String));
    expect(parameters.get('state')).toBe('approve-state');
    expect(parameters.get('iss')).toBe(demo.issuer);
    expect(parameters.has('error')).toBe(false);
    await page.close();
  });

  it('Deny lands on the redirect URI with error=access_denied, state and iss', async () => {
    const page = await openConsentPage('deny-state', 'mcp:tools');
    await Promise.all([
      page.waitForURL((url) => url.href.startsWith(callbackUrl)),
      page.getByRole('button', { name: 'Deny' }).click(),
    ]);
    const parameters = callbackParameters(page.url());
    expect(parameters.get('error')).toBe('access_denied');
    expect(parameters.get('state')).toBe('deny-state');
    expect(parameters.get('iss')).toBe(demo.issuer);
    expect(parameters.has('code')).toBe(false);
    await page.close();
  });

  async function approveAndExchange(state: string, scope: string): Promise<TokenResponse> {
    const pkce = createPkce();
    const page = await openConsentPage(state, scope, pkce);
    await Promise.all([
      page.waitForURL((url) => url.href.startsWith(callbackUrl)),
      page.getByRole('button', { name: 'Approve' }).click(),
    ]);
    const code = callbackParameters(page.url()).get('code') ?? '';
    await page.close();
    return tokenRequest(demo, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: callbackUrl,
      client_id: client.client_id,
      code_verifier: pkce.verifier,
      resource: demo.mcpUrl,
    });
  }

  it('a step-up in the same browser gets a grant of its own: revoking the superseded refresh token spares the new tokens', async () => {
    const first = await approveAndExchange('first', 'mcp:tools offline_access');
    const second = await approveAndExchange('second', 'mcp:tools mcp:admin offline_access');
    expect(second.body.scope).toBe('mcp:tools mcp:admin');
    const revoked = await fetch(`${demo.issuer}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token: stringField(first.body, 'refresh_token'),
        client_id: client.client_id,
      }),
    });
    expect(revoked.status).toBe(200);
    const bearer = { authorization: `Bearer ${stringField(second.body, 'access_token')}` };
    const call = await callMcp(
      demo,
      { method: 'tools/call', params: { name: 'admin_stats', arguments: {} } },
      bearer,
    );
    expect(call.status).toBe(200);
    const refreshed = await tokenRequest(demo, {
      grant_type: 'refresh_token',
      refresh_token: stringField(second.body, 'refresh_token'),
      client_id: client.client_id,
    });
    expect(refreshed.status).toBe(200);
  });
});
