/**
 * The suite's scenario name and `MCP_CONFORMANCE_CONTEXT` turned into `OAuthSession` options. Only
 * configuration lives here: every OAuth behaviour the suite checks is the library's.
 *
 * | context / scenario                     | configuration                                               |
 * | -------------------------------------- | ----------------------------------------------------------- |
 * | none                                   | authorization code; CIMD URL or dynamic registration        |
 * | `client_id` (+ `client_secret`)        | pre-registered for the issuer the server's metadata names   |
 * | `private_key_pem`                      | `private_key_jwt` with that key                             |
 * | `auth/client-credentials-*`            | the `client_credentials` grant                              |
 * | `idp_*` (enterprise-managed)           | jwt-bearer grant with an ID-JAG from the IdP's token endpoint |
 * | `valid_jwt` (workload identity)        | jwt-bearer grant with that JWT as the assertion             |
 * | `auth/dpop*`                           | DPoP-bound tokens                                           |
 */
import type {
  GrantOptions,
  OAuthHttpClient,
  OAuthSessionOptions,
  PreRegisteredClient,
} from '@mcp-oauth/core';
import { dpop } from '@mcp-oauth/core/dpop';
import { createIdJagAssertion } from '@mcp-oauth/core/enterprise';
import { privateKeyJwt, type SigningAlgorithm } from '@mcp-oauth/core/jwt';
import { createHttpContext, discover } from '@mcp-oauth/core/protocol';

/** `MCP_CONFORMANCE_CONTEXT`: the fields of the suite's context schema this client uses. */
export interface ConformanceContext {
  readonly client_id?: string;
  readonly client_secret?: string;
  readonly private_key_pem?: string;
  readonly signing_algorithm?: string;
  readonly idp_client_id?: string;
  readonly idp_id_token?: string;
  readonly idp_issuer?: string;
  readonly idp_token_endpoint?: string;
  /** Workload identity (`auth/wif-jwt-bearer`): a JWT whose audience is the authorization server. */
  readonly valid_jwt?: string;
  /** Calls to make, with their arguments (`http-custom-headers`). */
  readonly toolCalls?: ReadonlyArray<{ readonly name: string; readonly arguments?: Record<string, unknown> }>;
}

export function readContext(raw: string | undefined): ConformanceContext {
  if (raw === undefined || raw === '') return {};
  const value: unknown = JSON.parse(raw);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('MCP_CONFORMANCE_CONTEXT must be a JSON object');
  }
  return value as ConformanceContext;
}

export type CredentialOptions = Pick<OAuthSessionOptions, 'grant' | 'clientKey' | 'dpop'> & {
  readonly preRegistered?: PreRegisteredClient[];
};

/**
 * The suite gives pre-registered credentials without the issuer they belong to. A real deployment
 * configures that issuer; here it is the one this MCP server's metadata names (found with the
 * engine's own discovery), so the credentials are bound to exactly one authorization server.
 */
async function issuerOf(serverUrl: string, httpClient: OAuthHttpClient): Promise<string> {
  const found = await discover(createHttpContext(httpClient), { serverUrl: new URL(serverUrl) });
  return found.authorizationServer.issuer;
}

function grantFor(scenario: string, context: ConformanceContext, httpClient: OAuthHttpClient): GrantOptions {
  if (context.idp_id_token !== undefined && context.idp_client_id !== undefined) {
    // Enterprise-managed authorization: ID token → ID-JAG at the IdP → jwt-bearer grant here.
    return {
      type: 'jwt_bearer',
      assertion: createIdJagAssertion({
        httpClient,
        identityProvider: {
          ...(context.idp_issuer === undefined ? {} : { issuer: context.idp_issuer }),
          ...(context.idp_token_endpoint === undefined ? {} : { tokenEndpoint: context.idp_token_endpoint }),
        },
        client: { clientId: context.idp_client_id },
        idToken: context.idp_id_token,
      }),
    };
  }
  const workloadJwt = context.valid_jwt;
  if (workloadJwt !== undefined) {
    // Workload identity federation (RFC 7523): the platform's JWT is the assertion, as is.
    return { type: 'jwt_bearer', assertion: () => workloadJwt };
  }
  if (scenario.startsWith('auth/client-credentials')) return { type: 'client_credentials' };
  return { type: 'authorization_code' };
}

/** The grant and credentials the scenario calls for; the defaults without a context. */
export async function credentialOptions(
  scenario: string,
  context: ConformanceContext,
  serverUrl: string,
  httpClient: OAuthHttpClient,
): Promise<CredentialOptions> {
  // DPoP-bound tokens for every request of the DPoP scenarios (the session's `always` mode).
  const dpopOption = scenario === 'auth/dpop' || scenario.startsWith('auth/dpop-') ? { dpop: dpop() } : {};
  const clientId = context.client_id;
  if (clientId === undefined) return dpopOption;
  const preRegistered: PreRegisteredClient = {
    issuer: await issuerOf(serverUrl, httpClient),
    clientId,
    ...(context.client_secret === undefined ? {} : { clientSecret: context.client_secret }),
    ...(context.private_key_pem === undefined ? {} : { tokenEndpointAuthMethod: 'private_key_jwt' as const }),
  };
  const privateKey = context.private_key_pem;
  const algorithm = context.signing_algorithm as SigningAlgorithm | undefined;
  return {
    ...dpopOption,
    grant: grantFor(scenario, context, httpClient),
    preRegistered: [preRegistered],
    ...(privateKey === undefined
      ? {}
      : { clientKey: privateKeyJwt({ privateKey, ...(algorithm === undefined ? {} : { algorithm }) }) }),
  };
}
