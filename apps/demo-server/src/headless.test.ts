import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followAuthorization } from './headless.js';
import type { DemoRequestEvent } from './options.js';
import { type DemoServer, startDemoServer } from './start.js';
import {
  authorizationUrl,
  createPkce,
  obtainTokens,
  registerClient,
  stringField,
} from './test-utils/oauth.js';

describe('followAuthorization', () => {
  let demo: DemoServer;

  beforeAll(async () => {
    demo = await startDemoServer({ autoApprove: false });
  });

  afterAll(async () => {
    await demo.close();
  });

  it('stops at the consent page when autoApprove is off, naming no URL', async () => {
    const client = await registerClient(demo);
    const url = authorizationUrl(demo, {
      clientId: client.client_id,
      pkce: createPkce(),
      state: 'secret-state',
      resource: demo.mcpUrl,
    });
    const failure = await followAuthorization(url).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(/needs a person/);
    expect((failure as Error).message).not.toContain('127.0.0.1');
  });

  it('reports an error page of the authorization server by its status', async () => {
    const url = new URL(`${demo.issuer}/authorize`);
    url.searchParams.set('client_id', 'nobody');
    await expect(followAuthorization(url.href)).rejects.toThrow(/HTTP 400/);
  });
});

describe('request events', () => {
  it('never carry a code, a token or a query string', async () => {
    const events: DemoRequestEvent[] = [];
    const demo = await startDemoServer({ autoApprove: true, onRequest: (event) => events.push(event) });
    try {
      const client = await registerClient(demo);
      const token = await obtainTokens(demo, client);
      await fetch(demo.mcpUrl, {
        method: 'POST',
        headers: { authorization: `Bearer ${stringField(token.body, 'access_token')}` },
      });
      await new Promise((resolve) => setTimeout(resolve, 50)); // 'finish' events after the responses
      const logged = JSON.stringify(events);
      for (const secret of [
        stringField(token.body, 'access_token'),
        stringField(token.body, 'refresh_token'),
      ]) {
        expect(logged).not.toContain(secret);
      }
      expect(logged).not.toContain('?');
      expect(events.map((event) => `${event.endpoint} ${event.status}`)).toEqual(
        expect.arrayContaining(['registration 201', 'authorize 303', 'consent 303', 'token 200']),
      );
      expect(events.some((event) => event.server === 'mcp' && event.path === '/mcp')).toBe(true);
    } finally {
      await demo.close();
    }
  });
});
