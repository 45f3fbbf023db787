import { type OAuthHttpClient, OAuthSession } from '@mcp-oauth/core';
import { createFileStores, openBrowser, startCallbackServer } from '@mcp-oauth/node';

declare const httpClient: OAuthHttpClient; // from an adapter, e.g. @mcp-oauth/fetch
const callbacks = await startCallbackServer({ port: 33418 }); // http://127.0.0.1:33418/callback
export const session = new OAuthSession({
  serverUrl: 'https://mcp.example.com/mcp',
  httpClient,
  client: { clientName: 'My CLI', redirectUris: [callbacks.redirectUri] },
  stores: createFileStores(), // ~/.config/mcp-oauth, shared by all of the user's processes
  authorizationHandler: async ({ authorizationUrl, state, signal }) => {
    await openBrowser(authorizationUrl); // prints the URL instead when there is no desktop
    return callbacks.waitForCallback({ state, signal });
  },
});
