/**
 * The built CLI against the demo server, signing in with the device flow (RFC 8628) as on a
 * machine without a browser: `login --device`, then `status`, `token`, `tools`, `call` and
 * `logout` — and a denied sign-in.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { tokenKey } from '@mcp-oauth/core';
import { type DemoServer, decideDeviceAuthorization, startDemoServer } from '@mcp-oauth/demo-server';
import { createFileStores } from '@mcp-oauth/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHome, DEVICE_PROMPT, runCli, startCli } from './test-utils/cli.js';

let demo: DemoServer;
let home: Awaited<ReturnType<typeof createHome>>;

beforeAll(async () => {
  demo = await startDemoServer({ autoApprove: true, devicePollIntervalSeconds: 1 });
  home = await createHome();
});

afterAll(async () => {
  await demo?.close();
  await home?.remove();
});

const logFile = () => join(home.directory, '..', 'login.log');

async function storedTokens() {
  const stores = createFileStores({ directory: home.directory });
  const record = await stores.discovery.get(demo.mcpUrl);
  if (record?.clientId === undefined) return undefined;
  return stores.tokens.get(tokenKey(record.issuer, record.resource, record.clientId));
}

async function mcpStatus(token: string): Promise<number> {
  const response = await fetch(demo.mcpUrl, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
  await response.body?.cancel();
  return response.status;
}

describe('mcp-oauth with the device flow', () => {
  let token = '';

  it('login --device prints a code, waits for the confirmation, and stores the sign-in', async () => {
    const login = startCli(['login', demo.mcpUrl, '--device', '--log-file', logFile()], home.env);
    const [, verificationUriComplete] = await login.waitForStderr(DEVICE_PROMPT);
    expect(login.stderr).toMatch(/and enter the code [A-Z]{4}-[A-Z]{4}/);
    await decideDeviceAuthorization(verificationUriComplete!);
    const run = await login.exited;
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`Signed in to ${demo.mcpUrl}.`);
    expect(run.stderr).toContain(`issuer         ${demo.issuer}`);
    expect(await storedTokens()).toMatchObject({ grantedScopes: expect.arrayContaining(['mcp:tools']) });
  });

  it('status shows the server, issuer, client, scopes and expiry, and no token', async () => {
    const stored = await storedTokens();
    const text = await runCli(['status'], home.env);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(demo.mcpUrl);
    expect(text.stdout).toContain('signed in      yes (device code)');
    expect(text.stdout).toContain(`issuer         ${demo.issuer}`);
    expect(text.stdout).toMatch(/client {9}\S+/);
    expect(text.stdout).toContain('mcp:tools');
    expect(text.stdout).toMatch(/expires {8}\d{4}-\d\d-\d\dT[\d:.]+Z \(in \d+ s\)/);
    expect(text.stdout).toContain('refresh token  yes');

    const json = await runCli(['status', '--json'], home.env);
    const document = JSON.parse(json.stdout) as { servers: Record<string, unknown>[] };
    expect(document.servers).toEqual([
      {
        url: demo.mcpUrl,
        method: 'device',
        signedIn: true,
        issuer: demo.issuer,
        clientId: expect.any(String),
        scopes: expect.arrayContaining(['mcp:tools']),
        expiresAt: expect.any(String),
        hasRefreshToken: true,
      },
    ]);
    for (const output of [text.stdout, text.stderr, json.stdout, json.stderr]) {
      expect(output).not.toContain(stored!.accessToken);
      expect(output).not.toContain(stored!.refreshToken!);
    }
  });

  it('token prints a valid access token and nothing else', async () => {
    const run = await runCli(['token', demo.mcpUrl], home.env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    token = run.stdout.trim();
    expect(await mcpStatus(token)).toBe(200);
  });

  it('tools lists the server’s tools and call runs one', async () => {
    const tools = await runCli(['tools', demo.mcpUrl], home.env);
    expect(tools.code, tools.stderr).toBe(0);
    expect(tools.stdout).toMatch(/^echo +Returns the message it is given/m);
    expect(tools.stdout).toMatch(/^admin_stats +Requests served per endpoint/m);

    const call = await runCli(['call', demo.mcpUrl, 'echo', '{"message":"through the CLI"}'], home.env);
    expect(call.code, call.stderr).toBe(0);
    expect(call.stdout).toBe('through the CLI\n');

    const fromStdin = await runCli(['call', demo.mcpUrl, 'echo', '-'], home.env, '{"message":"from stdin"}');
    expect(fromStdin.stdout).toBe('from stdin\n');
  });

  it('--log-file and --debug log each step without a token', async () => {
    const stored = await storedTokens();
    const written = await readFile(logFile(), 'utf8');
    for (const event of [
      'discovery.prm.found',
      'discovery.as.found',
      'registration.dynamic',
      'device.authorization_issued',
      'token.request',
      'device.authorized',
      'session.authorized',
    ]) {
      expect(written).toMatch(new RegExp(`^\\S+Z debug ${event.replaceAll('.', '\\.')} `, 'm'));
    }
    expect((await stat(logFile())).mode & 0o777).toBe(0o600);

    const run = await runCli(['tools', demo.mcpUrl, '--debug'], home.env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^mcp-oauth \S+Z debug cli\.command command=tools /m);
    expect(run.stderr).toMatch(
      /^mcp-oauth \S+Z debug mcp\.exchange method=POST url=http:\/\/127\.0\.0\.1:\d+\/mcp status=200$/m,
    );
    for (const text of [written, run.stderr]) {
      for (const secret of [stored!.accessToken, stored!.refreshToken!]) expect(text).not.toContain(secret);
    }
  });

  it('logout revokes the tokens and forgets them', async () => {
    const run = await runCli(['logout', demo.mcpUrl], home.env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`Signed out of ${demo.mcpUrl}: tokens revoked and forgotten.`);
    expect(await mcpStatus(token)).toBe(401);
    expect(await storedTokens()).toBeUndefined();

    const status = await runCli(['status'], home.env);
    expect(status.stdout).toContain('Not signed in to any server.');
    const again = await runCli(['token', demo.mcpUrl], home.env);
    expect(again.code).toBe(1);
    expect(again.stdout).toBe('');
    expect(again.stderr).toContain(`mcp-oauth: not signed in to ${demo.mcpUrl}`);
    expect(again.stderr).toContain(`Sign in first: mcp-oauth login ${demo.mcpUrl}`);
  });

  it('login --device ends with authorization_denied when the person aborts', async () => {
    const login = startCli(['login', demo.mcpUrl, '--device'], home.env);
    const [, verificationUriComplete] = await login.waitForStderr(DEVICE_PROMPT);
    await decideDeviceAuthorization(verificationUriComplete!, { decision: 'deny' });
    const run = await login.exited;
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'mcp-oauth: the user denied the device authorization (authorization_denied)',
    );
    expect((await runCli(['status', '--json'], home.env)).stdout).toContain('"servers": []');
  });
});
