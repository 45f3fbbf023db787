import { type OAuthHttpClient, OAuthSession } from '@mcp-oauth/core';
import { createFileStores, openBrowser, startCallbackServer } from '@mcp-oauth/node';

declare const httpClient: OAuthHttpClient; // from an adapter, e.g. @mcp-oauth/fetch
const callbacks = await startCallbackServer({ port: 33418 }); // http://127.0.0.1:33418/callback
export const session = new OAuthSession({
  serverUrl: 'https://mcp.example.com/mcp',
  httpClient,
  client: { clientName: 'My CLI', redirectUris: [callbacks.redirectUri] },
  stores: createFileStores(), // ~/.config/mcp-oauth, shared by all of the user's processes
  authorizationHandler: ({ authorizationUrl, state, signal }) => {
    const callback = callbacks.waitForCallback({ state, signal }); // first: the browser may be quick
    return openBrowser(authorizationUrl).then(() => callback); // prints the URL when there is no desktop
  },
});

// ---- end of the README example
export { callbacks };
