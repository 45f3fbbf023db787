/**
 * The loopback callback server of `@mcp-oauth/node`, attacked by a web page. Any page the user has
 * open can make the browser send `GET http://127.0.0.1:<port>/callback?...` (an image, a form, a
 * fetch in no-cors mode); it cannot know the `state` of the login in progress. Such a request must
 * neither complete nor cancel that login: it gets 400, and the real callback afterwards succeeds.
 */
import { createLoopbackAuthorizationHandler, type LoopbackAuthorization } from '@mcp-oauth/node';
import { afterEach, describe, expect, it } from 'vitest';
import { expectNoSecrets } from './canary.js';
import { type Scenario, useScenarios } from './scenario.js';

const start = useScenarios();
const loopbacks: LoopbackAuthorization[] = [];
afterEach(async () => {
  await Promise.all(loopbacks.splice(0).map((loopback) => loopback.close()));
});

/** What a hostile page sends before the user finishes signing in. */
const FORGED = [
  ['an error with no state', '?error=access_denied'],
  ['an error with an empty state', '?error=access_denied&state='],
  ['an error with a guessed state', '?error=access_denied&state=guessed'],
  ['a code with no state', '?code=attacker-code-SECRET'],
  ['a code with a guessed state', '?code=attacker-code-SECRET&state=guessed'],
] as const;

/**
 * A session whose browser, once the authorization URL is opened, first lets the hostile page send
 * `forged` to the callback server, then signs in: it follows the authorization server's redirect
 * to the callback server, as a browser would.
 */
async function sessionWithHostilePage(s: Scenario, forged: readonly string[]) {
  const statuses: number[] = [];
  const pages: string[] = [];
  const loopback = await createLoopbackAuthorizationHandler({
    open: async (authorizationUrl) => {
      for (const query of forged) {
        const response = await fetch(`${loopback.redirectUri}${query}`);
        statuses.push(response.status);
        await response.body?.cancel();
      }
      const authorized = await fetch(authorizationUrl, { redirect: 'manual' });
      await authorized.body?.cancel();
      const callback = await fetch(authorized.headers.get('location') ?? '');
      statuses.push(callback.status);
      pages.push(await callback.text());
    },
  });
  loopbacks.push(loopback);
  const session = s.session({
    client: { clientName: 'security suite', redirectUris: [loopback.redirectUri] },
    authorizationHandler: loopback.handler,
  });
  return { session, statuses, pages };
}

describe('a web page sends forged callbacks to the loopback callback server', () => {
  it.each(FORGED)('%s gets 400, and the real callback afterwards completes the login', async (_, query) => {
    const s = await start();
    const { session, statuses, pages } = await sessionWithHostilePage(s, [query]);
    const response = await s.fetchFor(session)(s.mcpUrl, { method: 'POST', body: '{}' });
    expect(response.status).toBe(200);
    expect(statuses).toEqual([400, 200]);
    expect(pages[0]).toContain('You can close this window');
    expect(s.tokenRequests('authorization_code')).toHaveLength(1);
    expect(s.tokenRequests()[0]?.form.get('code')).toMatch(/^code-SECRET-/);
    expectNoSecrets(undefined, s.logger, s.wireSecrets());
  });

  it('all of them in a row still leave the login to the real callback', async () => {
    const s = await start();
    const { session, statuses } = await sessionWithHostilePage(
      s,
      FORGED.map(([, query]) => query),
    );
    const response = await s.fetchFor(session)(s.mcpUrl, { method: 'POST', body: '{}' });
    expect(response.status).toBe(200);
    expect(statuses).toEqual([...FORGED.map(() => 400), 200]);
    expect(s.tokenRequests()).toHaveLength(1);
  });
});
