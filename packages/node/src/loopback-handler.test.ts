import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isOAuthClientError, type OAuthHttpClient, OAuthSession } from '@mcp-oauth/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createFileStores } from './file-store.js';
import { createLoopbackAuthorizationHandler, type LoopbackAuthorization } from './loopback-handler.js';

const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function loopbackWith(open: (url: string) => unknown): Promise<LoopbackAuthorization> {
  const loopback = await createLoopbackAuthorizationHandler({ open });
  cleanups.push(() => loopback.close());
  return loopback;
}

/** A browser: follows the authorization server's redirect to the callback server; resolves with the page. */
async function browse(url: string): Promise<string> {
  const response = await fetch(url, { redirect: 'manual' });
  const location = response.headers.get('location');
  if (location === null) return response.text();
  await response.body?.cancel();
  return browse(location);
}

describe('createLoopbackAuthorizationHandler', () => {
  it('opens the authorization URL and returns the callback carrying its state', async () => {
    const opened: string[] = [];
    const loopback = await loopbackWith((url) => {
      opened.push(url);
      // The user finishes in the browser; a stray callback for another authorization comes first.
      void fetch(`${loopback.redirectUri}?code=other&state=other`).then(() =>
        fetch(`${loopback.redirectUri}?code=mine&state=state-1`),
      );
    });
    expect(loopback.redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    const callback = await loopback.handler({
      authorizationUrl: 'https://as.example/authorize?state=state-1',
      state: 'state-1',
      signal: undefined,
    });
    expect(opened).toEqual(['https://as.example/authorize?state=state-1']);
    expect(callback).toBe(`${loopback.redirectUri}?code=mine&state=state-1`);
  });

  it('accepts a callback that arrives before the opener returns', async () => {
    // An opener that completes the whole round trip itself (a test browser, a headless approver).
    const loopback = await loopbackWith(async () => {
      const page = await fetch(`${loopback.redirectUri}?code=fast&state=state-2`);
      expect(page.status).toBe(200);
    });
    const callback = await loopback.handler({
      authorizationUrl: 'https://as.example/authorize?state=state-2',
      state: 'state-2',
      signal: undefined,
    });
    expect(callback).toBe(`${loopback.redirectUri}?code=fast&state=state-2`);
  });

  it('reports a failing opener without waiting for a callback', async () => {
    const loopback = await loopbackWith(() => {
      throw new Error('no opener');
    });
    await expect(
      loopback.handler({ authorizationUrl: 'https://as.example/a', state: 's3', signal: undefined }),
    ).rejects.toThrow('no opener');
  });

  it('stops waiting when the session aborts', async () => {
    const loopback = await loopbackWith(() => {});
    const controller = new AbortController();
    const waiting = loopback.handler({
      authorizationUrl: 'https://as.example/a',
      state: 's',
      signal: controller.signal,
    });
    controller.abort();
    expect(isOAuthClientError(await waiting.catch((error: unknown) => error), 'aborted')).toBe(true);
  });

  it('completes a real authorization for OAuthSession with the file stores', async () => {
    let issued = 0;
    const server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', origin);
      if (url.pathname === '/authorize') {
        const redirect = new URL(url.searchParams.get('redirect_uri') ?? '');
        redirect.search = new URLSearchParams({
          code: 'the-code',
          state: url.searchParams.get('state') ?? '',
          iss: origin,
        }).toString();
        response.writeHead(302, { location: redirect.href }).end();
        return;
      }
      let body = '';
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      request.on('end', () => {
        const form = new URLSearchParams(body);
        const valid =
          form.get('grant_type') === 'authorization_code' &&
          form.get('code') === 'the-code' &&
          // The session's redirect URI for this authorization server, below the callback server's.
          (form.get('redirect_uri') ?? '').startsWith(`${loopback.redirectUri}/as-`) &&
          (form.get('code_verifier') ?? '').length >= 43;
        response.writeHead(valid ? 200 : 400, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify(
            valid
              ? { access_token: `access-${++issued}`, token_type: 'Bearer', expires_in: 3600, scope: 'mcp' }
              : { error: 'invalid_grant' },
          ),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const serverUrl = `${origin}/mcp`;

    const browsing: Array<Promise<string>> = [];
    const loopback = await loopbackWith((url) => {
      browsing.push(browse(url));
    });
    const directory = await mkdtemp(join(tmpdir(), 'mcp-oauth-loopback-'));
    cleanups.push(() => rm(directory, { recursive: true, force: true }));
    const stores = createFileStores({ directory });
    // Discovery and registration ran before; this authorization is what the test is about.
    await stores.discovery.set(serverUrl, {
      serverUrl,
      resource: serverUrl,
      issuer: origin,
      authorizationServerMetadata: {
        issuer: origin,
        authorization_endpoint: `${origin}/authorize`,
        token_endpoint: `${origin}/token`,
        code_challenge_methods_supported: ['S256'],
        authorization_response_iss_parameter_supported: true,
      },
      metadataSource: 'oauth',
      discoveredAt: Date.now(),
      clientId: 'client-1',
    });
    await stores.clients.set(origin, {
      issuer: origin,
      clientId: 'client-1',
      tokenEndpointAuthMethod: 'none',
      redirectUris: [loopback.redirectUri],
      source: 'dynamic',
    });

    const session = new OAuthSession({
      serverUrl,
      httpClient: fetchClient,
      client: { redirectUris: [loopback.redirectUri] },
      authorizationHandler: loopback.handler,
      stores,
    });
    await session.authorize();
    expect(await session.getAccessToken()).toBe('access-1');
    const pages = await Promise.all(browsing);
    expect(pages).toHaveLength(1);
    expect(pages[0]).toContain('You can close this window');
    expect(await readdir(join(directory, 'pending'))).toEqual([]);
  });
});

const fetchClient: OAuthHttpClient = {
  async send(request) {
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      ...(request.body === undefined ? {} : { body: request.body }),
      redirect: 'manual',
      signal: request.signal,
    });
    return {
      status: response.status,
      headers: Object.fromEntries(response.headers),
      body: await response.text(),
    };
  },
};
