/**
 * The one place the sample builds an `OAuthSession`: every adapter module calls it with its own
 * library's `OAuthHttpClient`, so what differs between the four modules is the HTTP library alone.
 */
import {
  type AuthorizationHandler,
  type OAuthHttpClient,
  type OAuthLogger,
  OAuthSession,
  type OAuthStores,
} from '@mcp-oauth/core';
import { dpop } from '@mcp-oauth/core/dpop';

export interface SampleOptions {
  /** The MCP endpoint, e.g. `http://127.0.0.1:9001/mcp`. */
  readonly serverUrl: string;
  /** Shown on the consent page. */
  readonly clientName: string;
  /** The loopback redirect URI and the handler that waits on it (see `authorization.ts`). */
  readonly authorization: { readonly redirectUri: string; readonly handler: AuthorizationHandler };
  /** Default: in memory. `createFileStores()` from `@mcp-oauth/node` keeps them across runs. */
  readonly stores?: OAuthStores;
  /** DPoP-bound tokens (RFC 9449) when the authorization server offers them. Default off. */
  readonly dpop?: boolean;
  /**
   * The MCP wire of the ky, axios and got modules: `2026-07-28` for the stateless wire
   * (`server/discover`, metadata on every request); default: the `initialize` handshake.
   */
  readonly protocolVersion?: string;
  /** Receives the engine's events (never a secret); the demo prints them as it goes. */
  readonly logger?: OAuthLogger;
}

export function createSession(options: SampleOptions, httpClient: OAuthHttpClient): OAuthSession {
  return new OAuthSession({
    serverUrl: options.serverUrl,
    httpClient,
    client: { clientName: options.clientName, redirectUris: [options.authorization.redirectUri] },
    authorizationHandler: options.authorization.handler,
    // Renew a second before expiry: the default (30 s) would renew the demo's 5 s tokens on every call.
    refreshSkewMs: 1_000,
    ...(options.dpop ? { dpop: dpop({ mode: 'auto' }) } : {}),
    ...(options.stores === undefined ? {} : { stores: options.stores }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
}
