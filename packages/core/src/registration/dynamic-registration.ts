/** Dynamic Client Registration (RFC 7591): the request, the response, and the exchange. */

import {
  invalidField,
  invalidOption,
  type OAuthClientError,
  oauthError,
  serverDescription,
  withServerWords,
} from '../errors.js';
import { fieldReader, readErrorBody, withoutUndefined } from '../fields.js';
import { type HttpContext, type OAuthHttpResponse, parseJsonObject, sendRequest } from '../http.js';
import type { OAuthLogger } from '../logger.js';
import { GRANT_TYPE_DEVICE_CODE } from '../token.js';
import type { AuthorizationServerMetadata, ClientInformation } from '../types.js';
import { assertNamedUrl, assertSafeUrl, isLoopbackHost, tryParseUrl } from '../url.js';
import {
  chooseTokenEndpointAuthMethod,
  hasKey,
  isAuthMethod,
  preferredMethod,
  usesSecret,
} from './auth-method.js';
import {
  assertClientOptions,
  type ClientOptions,
  isLoopbackHttp,
  METADATA_OPTIONS,
  metadataName,
  usesAuthorizationCode,
} from './client-options.js';
import type { ResolveClientInput } from './resolve-client.js';
import { isExpired, isStringList } from './stored-client.js';

interface RegistrationResponseInput {
  readonly issuer: string;
  readonly requested: Record<string, unknown>;
  readonly now: number;
  readonly allowPrivateNetworks?: boolean | undefined;
  /** Where the warning about a missing `client_secret_expires_at` goes. */
  readonly logger?: OAuthLogger | undefined;
}

const DEFAULT_CLIENT_NAME = 'MCP client';

/**
 * The RFC 7591 §2 registration request body. `redirect_uris` are sent only with the
 * `authorization_code` grant; without it `response_types` is `[]` (RFC 7591 §2 reads an omitted
 * list as `["code"]`, and servers then demand redirect URIs); `application_type` is always sent
 * (MCP requires it): `native` for loopback redirect URIs, and for the device authorization grant
 * without redirect URIs (RFC 8628 clients are native applications on the user's device), else `web`.
 */
export function buildRegistrationRequest(input: {
  client: ClientOptions;
  grantTypes: readonly string[];
  metadata: AuthorizationServerMetadata;
}): Record<string, unknown> {
  const { client, grantTypes, metadata } = input;
  assertClientOptions(client, grantTypes);
  const authorizationCode = usesAuthorizationCode(grantTypes);
  const redirectUris = authorizationCode ? [...(client.redirectUris ?? [])] : undefined;
  const values: Record<string, unknown> = {
    ...client,
    clientName: client.clientName ?? DEFAULT_CLIENT_NAME,
    redirectUris,
    grantTypes: [...grantTypes],
    // RFC 7591 §2 defaults `response_types` to ["code"], which makes a server demand redirect
    // URIs of a machine client: say "none" explicitly.
    responseTypes: authorizationCode ? ['code'] : [],
    tokenEndpointAuthMethod: chooseTokenEndpointAuthMethod(
      metadata.token_endpoint_auth_methods_supported,
      preferredMethod(client, grantTypes),
      hasKey(client),
    ),
    applicationType:
      client.applicationType ??
      ((
        redirectUris?.length
          ? redirectUris.every((uri) => isLoopbackHost(tryParseUrl(uri)?.hostname ?? ''))
          : grantTypes.includes(GRANT_TYPE_DEVICE_CODE)
      )
        ? 'native'
        : 'web'),
    jwks: client.jwks && { keys: client.jwks.keys.map((key) => ({ ...key })) },
  };
  // Extra metadata first; the reserved names were refused above, so nothing it holds can replace
  // a field of ours. Object.fromEntries defines properties, so a "__proto__" key stays a key.
  return Object.fromEntries(
    [
      ...Object.entries(client.extraMetadata ?? {}),
      ...METADATA_OPTIONS.map((option) => [metadataName(option), values[option]]),
    ].filter(([, value]) => value !== undefined),
  );
}

function registrationError(response: OAuthHttpResponse): OAuthClientError {
  const { error, description } = readErrorBody(response);
  // Fixed text per known error, then the server's own error_description, sanitized and marked.
  const rejected = 'dynamic client registration was rejected: the authorization server does not accept';
  const message =
    error === 'invalid_redirect_uri'
      ? `${rejected} the redirect URIs (check "redirectUris" and "applicationType")`
      : error === 'invalid_client_metadata'
        ? `${rejected} the client metadata`
        : error === 'invalid_software_statement' || error === 'unapproved_software_statement'
          ? `${rejected} the software statement`
          : `dynamic client registration failed with HTTP status ${response.status}`;
  return oauthError('registration_failed', withServerWords(message, serverDescription(description)), {
    oauthError: error,
    status: response.status,
  });
}

/**
 * Validates an RFC 7591 §3.2 registration response (`201`, or `200` from lenient servers) against
 * the request that produced it, and returns the client bound to `issuer`.
 *
 * - `client_secret_expires_at` is required with a secret; when a server omits it the secret is
 *   taken not to expire (`0`, as RFC 7591 defines `0`) and `input.logger` gets a warning
 *   (`registration.secret_expiry_missing`). A secret that has already expired at `now` is refused.
 * - A changed `token_endpoint_auth_method` is accepted when it is one this engine supports and can
 *   use (a secret for `client_secret_*`, a registered key for `private_key_jwt`).
 * - Echoed `redirect_uris` must contain every redirect URI that was sent.
 */
export function parseRegistrationResponse(
  response: OAuthHttpResponse,
  input: RegistrationResponseInput,
): ClientInformation {
  const { status } = response;
  if (status !== 200 && status !== 201) {
    if (status >= 200 && status < 300) {
      throw oauthError(
        'registration_failed',
        `dynamic client registration answered with unexpected HTTP status ${status}`,
        { status },
      );
    }
    throw registrationError(response);
  }
  const body = parseJsonObject(response, 'registration response', 'registration_failed');
  const fail = (field: string, rule: string) =>
    invalidField('registration_failed', 'registration response', field, rule, { status });
  const fields = fieldReader(body, fail);

  const clientId = fields.string('client_id', true)!;
  const clientSecret = fields.string('client_secret');
  const expiryMissing = clientSecret !== undefined && fields.get('client_secret_expires_at') === undefined;
  const clientSecretExpiresAt = fields.number('client_secret_expires_at') ?? (expiryMissing ? 0 : undefined);
  if (clientSecret !== undefined && isExpired(clientSecretExpiresAt, input.now)) {
    throw fail('client_secret_expires_at', 'is in the past');
  }
  fields.number('client_id_issued_at');

  const registrationAccessToken = fields.string('registration_access_token');
  const registrationClientUri = fields.string('registration_client_uri');
  if (registrationClientUri !== undefined) {
    const issuerUrl = tryParseUrl(input.issuer);
    if (issuerUrl === undefined) throw invalidOption('issuer', 'must be an absolute URL');
    // Safe, and no more private than the issuer: the message of the rule broken, under our code.
    const rule = {
      ...input,
      what: 'registration response "registration_client_uri"',
      learnedFrom: issuerUrl,
      allowLoopbackHttp: isLoopbackHttp(issuerUrl),
    };
    try {
      assertNamedUrl(registrationClientUri, rule);
    } catch (error) {
      throw oauthError('registration_failed', (error as Error).message, { status });
    }
  }

  const requested = input.requested;
  const echoedMethod = fields.get('token_endpoint_auth_method');
  if (echoedMethod !== undefined && !isAuthMethod(echoedMethod)) {
    throw fail('token_endpoint_auth_method', 'is not a method this client supports');
  }
  // RFC 7591 §2 default when the request named none: client_secret_basic.
  const method =
    echoedMethod ??
    (isAuthMethod(requested.token_endpoint_auth_method)
      ? requested.token_endpoint_auth_method
      : 'client_secret_basic');
  if (usesSecret(method) && clientSecret === undefined) {
    throw fail('client_secret', `is required for ${method}`);
  }
  if (method === 'private_key_jwt' && requested.jwks === undefined && requested.jwks_uri === undefined) {
    throw fail('token_endpoint_auth_method', 'is private_key_jwt but no key was registered');
  }

  const sentRedirectUris = stringsIn(requested.redirect_uris);
  const echoedRedirectUris = fields.strings('redirect_uris');
  if (
    echoedRedirectUris !== undefined &&
    !sentRedirectUris.every((uri) => echoedRedirectUris.includes(uri))
  ) {
    throw fail('redirect_uris', 'must contain every redirect URI that was registered');
  }

  // The grants the server registered (RFC 7591 §3.2.1 echoes them), else the ones asked for.
  const echoedGrantTypes = fields.get('grant_types');
  const grantTypes = stringsIn(isStringList(echoedGrantTypes) ? echoedGrantTypes : requested.grant_types);

  // Only for a response that is accepted.
  if (expiryMissing) input.logger?.warn('registration.secret_expiry_missing', { issuer: input.issuer });
  return withoutUndefined<ClientInformation>({
    issuer: input.issuer,
    clientId,
    clientSecret,
    clientSecretExpiresAt: clientSecret === undefined ? undefined : clientSecretExpiresAt,
    tokenEndpointAuthMethod: method,
    redirectUris: sentRedirectUris,
    grantTypes,
    source: 'dynamic',
    registrationAccessToken,
    registrationClientUri,
  });
}

export async function registerDynamically(
  context: HttpContext,
  input: ResolveClientInput,
  endpoint: string,
): Promise<ClientInformation> {
  const url = assertSafeUrl(endpoint, {
    what: 'registration_endpoint',
    allowLoopbackHttp: isLoopbackHttp(tryParseUrl(input.issuer)),
  });
  const requested = buildRegistrationRequest(input);
  let body: string;
  try {
    body = JSON.stringify(requested);
  } catch {
    throw invalidOption('extraMetadata', 'must be JSON-serialisable');
  }
  const response = await sendRequest(context, {
    method: 'POST',
    url: url.href,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body,
    redirect: 'same-origin',
    signal: input.signal,
  });
  return parseRegistrationResponse(response, { ...input, requested, logger: context.logger });
}

/** The strings of a list (a copy), or none. */
function stringsIn(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}
