import { request as httpRequest } from 'node:http';
import { isOAuthClientError } from '@mcp-oauth/core';
import { afterEach, describe, expect, it } from 'vitest';
import { type CallbackServer, type CallbackServerOptions, startCallbackServer } from './callback-server.js';

const servers: CallbackServer[] = [];

async function start(options: CallbackServerOptions = {}): Promise<CallbackServer> {
  const server = await startCallbackServer(options);
  servers.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** Marks when a promise settles, so a test can assert it has not (yet). */
function track<T>(promise: Promise<T>): { settled: () => boolean; promise: Promise<T> } {
  let settled = false;
  const tracked = promise.finally(() => {
    settled = true;
  });
  tracked.catch(() => {});
  return { settled: () => settled, promise: tracked };
}

describe('startCallbackServer', () => {
  it('listens on 127.0.0.1 with a free port and the default path', async () => {
    const server = await start();
    expect(server.redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(new URL(server.redirectUri).port).not.toBe('0');
  });

  it('resolves with the full callback URL and answers with a page that echoes nothing', async () => {
    const server = await start();
    const waiting = server.waitForCallback({ state: 'SECRET-STATE' });
    const callback = `${server.redirectUri}?code=SECRET-CODE&state=SECRET-STATE&iss=https%3A%2F%2Fas.example`;
    const response = await fetch(callback);
    const body = await response.text();

    expect(await waiting).toBe(callback);
    expect(response.status).toBe(200);
    expect(body).toContain('You can close this window');
    expect(body).not.toMatch(/SECRET|as\.example/);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('content-security-policy')).toBe(
      "default-src 'none'; style-src 'unsafe-inline'",
    );
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('delivers an error response and shows a generic failure page', async () => {
    const server = await start();
    const waiting = server.waitForCallback({ state: 'SECRET-STATE' });
    const callback = `${server.redirectUri}?error=access_denied&error_description=SECRET%20%3Cscript%3E&state=SECRET-STATE`;
    const response = await fetch(callback);
    const body = await response.text();

    expect(await waiting).toBe(callback);
    expect(body).toContain('not completed');
    expect(body).not.toMatch(/SECRET|access_denied|script/);
  });

  it('takes a callback on a path below its own (a redirect URI per authorization server)', async () => {
    const server = await start();
    const waiting = server.waitForCallback({ state: 's1' });
    const callback = `${server.redirectUri}/as-1x2y3z?code=c&state=s1`;
    expect((await fetch(callback)).status).toBe(200);
    expect(await waiting).toBe(callback);
  });

  it('ignores stray requests: other paths, other methods, callbacks with neither state nor error', async () => {
    const server = await start();
    const waiting = track(server.waitForCallback({ state: 's' }));
    const origin = new URL(server.redirectUri).origin;

    expect((await fetch(`${origin}/favicon.ico`)).status).toBe(404);
    expect((await fetch(`${origin}/callbackextra?state=x`)).status).toBe(404);
    expect((await fetch(`${origin}/other/callback?state=x`)).status).toBe(404);
    const post = await fetch(`${server.redirectUri}?state=x&code=y`, { method: 'POST', body: 'state=x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
    expect((await fetch(`${server.redirectUri}?code=y`)).status).toBe(400);
    expect(waiting.settled()).toBe(false);

    const callback = `${server.redirectUri}?code=c&state=s`;
    await fetch(callback);
    expect(await waiting.promise).toBe(callback);
  });

  it('refuses a request whose Host is not the loopback address (DNS rebinding)', async () => {
    const server = await start();
    const waiting = track(server.waitForCallback({ state: 's' }));
    const url = new URL(`${server.redirectUri}?code=c&state=s`);
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const request = httpRequest(
        {
          host: '127.0.0.1',
          port: url.port,
          path: `${url.pathname}${url.search}`,
          headers: { host: 'evil.example' },
        },
        (response) => {
          response.resume();
          resolve(response.statusCode);
        },
      );
      request.on('error', reject);
      request.end();
    });
    expect(status).toBe(400);
    expect(waiting.settled()).toBe(false);
  });

  it('keeps listening: sequential waits receive sequential callbacks (step-up)', async () => {
    const server = await start();
    const first = server.waitForCallback({ state: 's1' });
    await fetch(`${server.redirectUri}?code=one&state=s1`);
    expect(await first).toContain('code=one');

    const second = server.waitForCallback({ state: 's2' });
    await fetch(`${server.redirectUri}?code=two&state=s2`);
    expect(await second).toContain('code=two');
  });

  it('routes each callback to the wait for its state', async () => {
    const server = await start();
    const forA = server.waitForCallback({ state: 'state-a' });
    const forB = server.waitForCallback({ state: 'state-b' });
    await fetch(`${server.redirectUri}?code=b&state=state-b`);
    await fetch(`${server.redirectUri}?code=a&state=state-a`);
    expect(await forA).toContain('code=a');
    expect(await forB).toContain('code=b');
  });

  it('answers a callback nobody waits for with the failure page and does not keep it', async () => {
    const server = await start();
    const stale = await fetch(`${server.redirectUri}?code=old&state=old`);
    expect(stale.status).toBe(400);
    expect(await stale.text()).not.toContain('old');

    const next = server.waitForCallback({ state: 'new' });
    await fetch(`${server.redirectUri}?code=new&state=new`);
    expect(await next).toContain('code=new');
  });

  it('rejects with timeout when no callback arrives in time, and stays usable', async () => {
    const server = await start({ timeoutMs: 20 });
    const error = await server.waitForCallback({ state: 's' }).catch((caught: unknown) => caught);
    expect(isOAuthClientError(error, 'timeout')).toBe(true);

    const next = server.waitForCallback({ state: 's' });
    await fetch(`${server.redirectUri}?code=c&state=s`);
    expect(await next).toContain('code=c');
  });

  it('rejects with aborted when the signal aborts, before or while waiting', async () => {
    const server = await start();
    const controller = new AbortController();
    const waiting = server.waitForCallback({ state: 's', signal: controller.signal });
    controller.abort();
    expect(isOAuthClientError(await waiting.catch((error: unknown) => error), 'aborted')).toBe(true);
    const already = server.waitForCallback({ state: 's', signal: controller.signal });
    expect(isOAuthClientError(await already.catch((error: unknown) => error), 'aborted')).toBe(true);

    // The aborted wait no longer takes callbacks.
    const stray = await fetch(`${server.redirectUri}?code=c&state=s`);
    expect(stray.status).toBe(400);
  });

  it('close rejects pending waits with aborted and stops listening', async () => {
    const server = await start();
    const waiting = server.waitForCallback({ state: 's' });
    await server.close();
    await server.close();
    expect(isOAuthClientError(await waiting.catch((error: unknown) => error), 'aborted')).toBe(true);
    expect(
      isOAuthClientError(
        await server.waitForCallback({ state: 's' }).catch((error: unknown) => error),
        'aborted',
      ),
    ).toBe(true);
    await expect(fetch(server.redirectUri)).rejects.toThrow();
  });

  it('uses a fixed port and path, and reports a port in use as network_error', async () => {
    const first = await start({ path: '/oauth/done' });
    const port = Number(new URL(first.redirectUri).port);
    await first.close();

    const fixed = await start({ port, path: '/oauth/done' });
    expect(fixed.redirectUri).toBe(`http://127.0.0.1:${port}/oauth/done`);
    const error = await startCallbackServer({ port }).catch((caught: unknown) => caught);
    expect(isOAuthClientError(error, 'network_error')).toBe(true);
    expect((error as Error).message).toContain(`127.0.0.1:${port}`);
  });

  it('serves custom pages', async () => {
    const server = await start({ successHtml: '<p>done</p>', failureHtml: '<p>nope</p>' });
    const ok = server.waitForCallback({ state: 's' });
    expect(await (await fetch(`${server.redirectUri}?code=c&state=s`)).text()).toBe('<p>done</p>');
    await ok;
    expect(await (await fetch(`${server.redirectUri}?state=s`)).text()).toBe('<p>nope</p>');
  });

  it('a callback without a state, or with one nobody waits for, gets 400 and consumes nothing', async () => {
    const server = await start();
    const waiting = track(server.waitForCallback({ state: 'real-state' }));
    // What any web page can make the browser send to 127.0.0.1.
    for (const forged of [
      '?error=access_denied',
      '?error=access_denied&error_description=cancelled',
      '?code=attacker-code',
      '?error=access_denied&state=',
      '?error=access_denied&state=guessed',
      '?code=attacker-code&state=guessed',
      '?state=real-stat',
    ]) {
      const response = await fetch(`${server.redirectUri}${forged}`);
      expect(response.status, forged).toBe(400);
      expect(await response.text()).toContain('not completed');
      expect(waiting.settled(), forged).toBe(false);
    }
    const real = `${server.redirectUri}?code=the-code&state=real-state`;
    const response = await fetch(real);
    expect(response.status).toBe(200);
    expect(await waiting.promise).toBe(real);
  });

  it('an error response carrying the state of a wait is delivered to that wait only', async () => {
    const server = await start();
    const mine = server.waitForCallback({ state: 'mine' });
    const other = track(server.waitForCallback({ state: 'other' }));
    const callback = `${server.redirectUri}?error=access_denied&state=mine`;
    expect((await fetch(callback)).status).toBe(200);
    expect(await mine).toBe(callback);
    expect(other.settled()).toBe(false);
  });

  it.each([[{}], [{ state: '' }], [undefined]])(
    'waitForCallback(%j) rejects with invalid_options: a wait without a state would take any callback',
    async (options) => {
      const server = await start();
      const error = await server
        .waitForCallback(options as unknown as { state: string })
        .catch((caught: unknown) => caught);
      expect(isOAuthClientError(error, 'invalid_options')).toBe(true);
      const stray = await fetch(`${server.redirectUri}?error=access_denied`);
      expect(stray.status).toBe(400);
    },
  );

  it.each([
    [{ port: -1 }],
    [{ port: 70_000 }],
    [{ port: 1.5 }],
    [{ path: 'callback' }],
    [{ path: '/call back' }],
    [{ path: '/callback?x=1' }],
    [{ timeoutMs: 0 }],
  ] as const)('rejects invalid options %j', async (options) => {
    const error = await startCallbackServer(options).catch((caught: unknown) => caught);
    expect(isOAuthClientError(error, 'invalid_options')).toBe(true);
  });
});
