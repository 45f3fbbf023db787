/**
 * How the user is brought in: the loopback callback server of RFC 8252 from `@mcp-oauth/node`,
 * and an `open` function that shows the authorization URL — the system browser by default; for a
 * headless run against the auto-approving demo server, {@link approveHeadless}; in the browser
 * test, Playwright.
 */
import type { AuthorizationHandler } from '@mcp-oauth/core';
import { followAuthorization } from '@mcp-oauth/demo-server';
import { openBrowser, startCallbackServer } from '@mcp-oauth/node';

/** Shows the authorization URL to the user (or plays the user). */
export type OpenAuthorizationUrl = (authorizationUrl: string) => Promise<unknown>;

export interface LoopbackAuthorization {
  /** `http://127.0.0.1:<port>/callback`, for `client.redirectUris`. */
  readonly redirectUri: string;
  /** The session's `authorizationHandler`. */
  readonly handler: AuthorizationHandler;
  close(): Promise<void>;
}

export async function startLoopbackAuthorization(
  options: { open?: OpenAuthorizationUrl; port?: number } = {},
): Promise<LoopbackAuthorization> {
  const open = options.open ?? ((url: string) => openBrowser(url));
  const callbacks = await startCallbackServer({ port: options.port ?? 0 });
  return {
    redirectUri: callbacks.redirectUri,
    handler: async ({ authorizationUrl, state, signal }) => {
      // Wait before opening: a fast "browser" may be back before `open` returns.
      const cancel = new AbortController();
      const waiting = callbacks.waitForCallback({
        state,
        signal: signal === undefined ? cancel.signal : AbortSignal.any([signal, cancel.signal]),
      });
      try {
        await open(authorizationUrl);
      } catch (error) {
        cancel.abort();
        await waiting.catch(() => undefined);
        throw error;
      }
      return waiting;
    },
    close: () => callbacks.close(),
  };
}

/**
 * The browser of a headless run: the demo server (started with `autoApprove`) grants at once, so
 * following its redirects with cookies ends at our redirect URI, which we then visit like a browser
 * would, delivering the code to the callback server.
 */
export async function approveHeadless(authorizationUrl: string): Promise<void> {
  const redirect = await followAuthorization(authorizationUrl);
  const response = await fetch(redirect, { redirect: 'manual' });
  await response.body?.cancel();
}
