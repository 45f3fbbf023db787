import { OAuthClientError } from '@mcp-oauth/core';
import type {
  OAuthSessionInput,
  ResourceRequest,
  ResourceResponse,
  SendStep,
  WithOAuthSession,
} from '@mcp-oauth/core/adapter';
import { attachSession, sessionFromInput } from '@mcp-oauth/core/adapter';
import { createFetchHttpClient } from './http-client.js';

/**
 * The MCP TypeScript SDK v2's `AuthProvider` (`@modelcontextprotocol/client`), carried out by an
 * OAuth session. The SDK's `StreamableHTTPClientTransport` uses it like this (the legacy
 * `SSEClientTransport` too, without the step-up path), and this provider answers as follows:
 *
 * - `token()` is called before every request a transport sends (each POST, the GET stream, the
 *   closing DELETE); the transport sends what it returns as `Authorization: Bearer …`. It returns
 *   the session's access token for its server URL, renewed first when it is about to expire (with
 *   a refresh token or a grant that needs no user), or `undefined` before the first authorization,
 *   so that the server's `401` names where to authorize.
 * - `onUnauthorized({ response, serverUrl })` is called for a `401`; the transport awaits it and
 *   sends the request once more, then throws `SdkHttpError` (`ClientHttpAuthentication`) if that
 *   gets a `401` too. The session decides what the `401` calls for (a refresh, an authorization,
 *   nothing when another token is already in place) and does it; when authorization cannot
 *   succeed, the `OAuthClientError` thrown here is what the caller's request rejects with.
 * - The SDK never hands this provider a `403`: for `403 insufficient_scope` the transport throws
 *   its `InsufficientScopeError` to the caller. Pass that error to {@link handleInsufficientScope},
 *   then send the request again.
 */
export interface McpAuthProvider {
  /** The session's current access token for its server URL (renewed when it is about to expire), or `undefined`. */
  token(): Promise<string | undefined>;
  /** Shows the session a `401` the transport received; resolves when the transport's one retry may succeed. */
  onUnauthorized(context: { readonly response: Response; readonly serverUrl: URL }): Promise<void>;
  /**
   * Shows the session a `403 insufficient_scope` the transport threw as `InsufficientScopeError`
   * (or the same fields from elsewhere): the session steps up (a new authorization for the scopes
   * held and the ones required, within its `stepUps` budget) or throws `insufficient_scope`.
   * Resolves when sending the request again may succeed.
   */
  handleInsufficientScope(challenge: InsufficientScopeChallenge): Promise<void>;
}

/** What `403 insufficient_scope` said: the fields of the SDK's `InsufficientScopeError`. */
export interface InsufficientScopeChallenge {
  /** The challenge's `scope`: space-separated scopes the server requires. */
  readonly requiredScope?: string | undefined;
  /** The challenge's `resource_metadata`. */
  readonly resourceMetadataUrl?: URL | string | undefined;
}

/**
 * How many `token()` requests are remembered so that a `401` can be matched to the token its
 * request carried (see {@link createMcpAuthProvider}); older ones are forgotten.
 */
const REMEMBERED_REQUESTS = 64;

/** A request begun for `token()`, with the token it handed to the transport. */
interface HandedOut {
  readonly token: string | undefined;
  readonly request: ResourceRequest;
}

/**
 * An `authProvider` for the MCP SDK v2's transports, built on `session` (an `OAuthSession`, or its
 * options: the session then makes its OAuth requests with the global `fetch`). Every decision is
 * the session's: each `token()` begins one of its resource requests and hands out the credential
 * it carries; a `401` or `403` is reported to such a request, which says what to do.
 *
 * The SDK does not say which `token()` a rejected request carried. A `401` is taken as the
 * rejection of the session's current token when that token has been handed out, and otherwise as
 * the rejection of an earlier one (the session then only hands out the current token again).
 */
export function createMcpAuthProvider(session: OAuthSessionInput): WithOAuthSession<McpAuthProvider> {
  const oauth = sessionFromInput(session, () => createFetchHttpClient());
  const handedOut: HandedOut[] = [];

  const begin = async (url: string): Promise<HandedOut> => {
    const request = await oauth.beginRequest({ method: 'POST', url });
    return { request, token: bearerToken(request.first) };
  };

  /** The request a rejection from `url` answers (requests begun for `token()` are for the server URL). */
  const rejectedRequest = async (url: string): Promise<ResourceRequest> => {
    const now = await begin(url);
    if (url !== oauth.serverUrl.href || handedOut.some((each) => each.token === now.token)) {
      return now.request;
    }
    // The current token (or none) has not gone out yet: the request carried an earlier one.
    return handedOut.pop()?.request ?? now.request;
  };

  const report = async (url: string, response: ResourceResponse): Promise<void> => {
    const next = await (await rejectedRequest(url)).respond(response);
    if (next.type === 'done') {
      throw new OAuthClientError(
        'authorization_failed',
        `the session cannot authorize the server's ${response.status} (when the transport's URL is not the session's server URL, the session logs "session.outside_scope")`,
        { status: response.status },
      );
    }
  };

  const provider: McpAuthProvider = {
    async token() {
      const current = await begin(oauth.serverUrl.href);
      handedOut.push(current);
      if (handedOut.length > REMEMBERED_REQUESTS) handedOut.shift();
      return current.token;
    },
    onUnauthorized: ({ response, serverUrl }) =>
      report(serverUrl.href, { status: response.status, headers: response.headers }),
    handleInsufficientScope: (challenge) =>
      report(oauth.serverUrl.href, {
        status: 403,
        headers: { 'www-authenticate': insufficientScopeChallenge(challenge) },
      }),
  };
  return attachSession(provider, oauth);
}

/** The bearer token a send carries, `undefined` when it carries none. */
function bearerToken(step: SendStep): string | undefined {
  const headers = Object.entries(step.headers);
  if (headers.length === 0) return undefined;
  const [name, value] = headers[0]!;
  if (headers.length === 1 && name.toLowerCase() === 'authorization' && value.startsWith('Bearer ')) {
    return value.slice('Bearer '.length);
  }
  throw new OAuthClientError(
    'dpop_failed',
    'the session holds a DPoP-bound token, which needs a proof on every request; the MCP SDK\'s authProvider can only send "Authorization: Bearer": give the transport fetch: withOAuth(fetch, session) instead',
  );
}

/** Printable ASCII without `"` and `\`: a value that goes into a quoted string as it is. */
const QUOTABLE = /^[\x20\x21\x23-\x5B\x5D-\x7E]+$/;

/** The `WWW-Authenticate` challenge the SDK parsed into an `InsufficientScopeError`, written back. */
function insufficientScopeChallenge(challenge: InsufficientScopeChallenge): string {
  const parameters = ['error="insufficient_scope"'];
  const { requiredScope } = challenge;
  if (requiredScope !== undefined && QUOTABLE.test(requiredScope))
    parameters.push(`scope="${requiredScope}"`);
  const metadata = challenge.resourceMetadataUrl?.toString();
  if (metadata !== undefined && QUOTABLE.test(metadata)) parameters.push(`resource_metadata="${metadata}"`);
  return `Bearer ${parameters.join(', ')}`;
}
