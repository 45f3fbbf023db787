import type { AuthorizationHandler } from '@mcp-oauth/core';
import { type CallbackServerOptions, startCallbackServer } from './callback-server.js';
import { openBrowser } from './open-browser.js';

export interface LoopbackAuthorizationOptions extends CallbackServerOptions {
  /** Shows the authorization URL to the user. Default {@link openBrowser}. */
  readonly open?: (url: string) => unknown;
}

export interface LoopbackAuthorization {
  /** Put it in `client.redirectUris`; it is known before the session registers. */
  readonly redirectUri: string;
  /** The session's `authorizationHandler`: opens the URL, waits for the callback with that `state`. */
  readonly handler: AuthorizationHandler;
  /** Stops the callback server. */
  close(): Promise<void>;
}

/**
 * A callback server and an `authorizationHandler` over it, ready for `OAuthSession`. The server
 * serves every authorization of the session (step-ups included) until it is closed, and does not
 * keep the process alive while nobody waits for a callback.
 */
export async function createLoopbackAuthorizationHandler(
  options: LoopbackAuthorizationOptions = {},
): Promise<LoopbackAuthorization> {
  const { open = openBrowser, ...serverOptions } = options;
  const server = await startCallbackServer(serverOptions);
  return {
    redirectUri: server.redirectUri,
    handler: async ({ authorizationUrl, state, signal }) => {
      // Wait first: an opener that completes the round trip itself (a test browser, a headless
      // approver) may deliver the callback before it returns.
      const stop = new AbortController();
      const onAbort = () => stop.abort();
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted) stop.abort();
      const callback = server.waitForCallback({ state, signal: stop.signal });
      try {
        await open(authorizationUrl);
      } catch (error) {
        stop.abort();
        await callback.catch(() => {});
        throw error;
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
      return callback;
    },
    close: () => server.close(),
  };
}
