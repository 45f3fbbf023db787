/**
 * Token revocation (RFC 7009): a form POST of the token with the client's authentication.
 * Redirects are refused, since the request carries a token and client credentials.
 */
import type { ClientAuthentication } from './client-auth.js';
import { invalidField, oauthError } from './errors.js';
import type { HttpContext, OAuthHttpResponse } from './http.js';
import { sendRequest } from './http.js';
import { formRequest } from './token.js';
import { oauthErrorResponse } from './token-response.js';
import { redactUrl, tryParseUrl } from './url.js';

export interface RevocationInput {
  /** The `revocation_endpoint` from the authorization server's metadata. */
  readonly endpoint: string;
  readonly issuer: string;
  readonly token: string;
  readonly tokenTypeHint: 'access_token' | 'refresh_token';
  readonly client: ClientAuthentication;
  /** Milliseconds since the epoch. */
  readonly now: number;
}

export interface RevocationRequest {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Builds an RFC 7009 §2.1 revocation request as data. */
export async function buildRevocationRequest(input: RevocationInput): Promise<RevocationRequest> {
  if (tryParseUrl(input.endpoint) === undefined) {
    throw oauthError('invalid_options', 'revocation endpoint must be an absolute URL');
  }
  if (typeof input.token !== 'string' || input.token.length === 0) {
    throw invalidField('invalid_options', 'revocation request', 'token', 'must be a non-empty string');
  }
  if (input.tokenTypeHint !== 'access_token' && input.tokenTypeHint !== 'refresh_token') {
    throw invalidField(
      'invalid_options',
      'revocation request',
      'token_type_hint',
      'must be access_token or refresh_token',
    );
  }
  // A private_key_jwt assertion's audience is the issuer by default; with `token_endpoint` it is
  // the endpoint the assertion is presented to, here the revocation endpoint.
  return formRequest(
    input.endpoint,
    { token: input.token, token_type_hint: input.tokenTypeHint },
    input.client,
    {
      issuer: input.issuer,
      tokenEndpoint: input.endpoint,
      now: input.now,
    },
  );
}

/**
 * RFC 7009 §2.2: any 2xx means the token is revoked (or was already invalid). Anything else is
 * `revocation_failed` with `status` and the server's `error` (for example `unsupported_token_type`,
 * §2.2.1) as `oauthError`.
 */
export function parseRevocationResponse(response: OAuthHttpResponse): void {
  if (response.status >= 200 && response.status < 300) return;
  throw oauthErrorResponse('revocation_failed', 'token revocation', response);
}

/** Revokes one token at the authorization server's revocation endpoint. */
export async function revokeToken(
  context: HttpContext,
  input: RevocationInput & { readonly signal?: AbortSignal | undefined },
): Promise<void> {
  const request = await buildRevocationRequest(input);
  context.logger.debug('token.revoke', { endpoint: redactUrl(request.url), hint: input.tokenTypeHint });
  const response = await sendRequest(context, {
    method: 'POST',
    url: request.url,
    headers: request.headers,
    body: request.body,
    redirect: 'never',
    signal: input.signal,
  });
  parseRevocationResponse(response);
}
