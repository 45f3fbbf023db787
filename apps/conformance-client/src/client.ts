/**
 * The client under test for the MCP conformance suite: `client.ts <server-url>`.
 *
 * Everything OAuth is done by @mcp-oauth/core (the session) and @mcp-oauth/fetch (the adapter);
 * this file only turns the suite's environment into configuration:
 * - `MCP_CONFORMANCE_SCENARIO`: the scenario name;
 * - `MCP_CONFORMANCE_CONTEXT`: JSON credentials for the scenarios that need them.
 *
 * It then connects with the MCP SDK client (no authProvider; the adapter's fetch carries the
 * tokens), lists the tools and calls the ones the suite's servers offer.
 */
import {
  type GrantOptions,
  isOAuthClientError,
  type OAuthHttpClient,
  OAuthSession,
  type OAuthSessionOptions,
  type PreRegisteredClient,
} from '@mcp-oauth/core';
import { createIdJagAssertion } from '@mcp-oauth/core/enterprise';
import { privateKeyJwt, type SigningAlgorithm } from '@mcp-oauth/core/jwt';
import { createHttpContext, discover } from '@mcp-oauth/core/protocol';
import { createFetchHttpClient, withOAuth } from '@mcp-oauth/fetch';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';

/** Never listened on: the authorization handler reads the code from the redirect's Location. */
const REDIRECT_URI = 'http://127.0.0.1:33418/callback';
/** The suite's fixed Client ID Metadata Document URL (servers accept it without fetching it). */
const CLIENT_METADATA_URL = 'https://conformance-test.local/client-metadata.json';
/** The client gives up on its own before the suite's 30 s limit. */
const OVERALL_TIMEOUT_MS = 20_000;

/** Arguments for the tools the suite's servers offer; other tools are listed but not called. */
const TOOL_ARGUMENTS: Readonly<Record<string, Record<string, unknown>>> = {
  'test-tool': {},
  add_numbers: { a: 5, b: 3 },
  test_client_elicitation_defaults: {},
  test_reconnection: {},
};

/** `MCP_CONFORMANCE_CONTEXT`: the fields of the suite's context schema this client uses. */
interface ConformanceContext {
  readonly client_id?: string;
  readonly client_secret?: string;
  readonly private_key_pem?: string;
  readonly signing_algorithm?: string;
  readonly idp_client_id?: string;
  readonly idp_id_token?: string;
  readonly idp_issuer?: string;
  readonly idp_token_endpoint?: string;
}

function readContext(): ConformanceContext {
  const raw = process.env.MCP_CONFORMANCE_CONTEXT;
  if (raw === undefined || raw === '') return {};
  const value: unknown = JSON.parse(raw);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('MCP_CONFORMANCE_CONTEXT must be a JSON object');
  }
  return value as ConformanceContext;
}

/**
 * Consent without a browser: request the authorization URL, do not follow the redirect, and hand
 * the session the redirect target (it reads `code`, `state` and `iss` there).
 */
async function approveInBackground({ authorizationUrl }: { authorizationUrl: string }): Promise<string> {
  const response = await fetch(authorizationUrl, { redirect: 'manual' });
  await response.body?.cancel();
  const location = response.headers.get('location');
  if (response.status < 300 || response.status >= 400 || location === null) {
    throw new Error(`the authorization endpoint answered ${response.status} without a redirect`);
  }
  return new URL(location, authorizationUrl).href;
}

/**
 * The suite gives pre-registered credentials without the issuer they belong to. A real deployment
 * configures that issuer; here it is the one this MCP server's metadata names (found with the
 * engine's own discovery), so the credentials are bound to exactly one authorization server.
 */
async function issuerOf(serverUrl: string, httpClient: OAuthHttpClient): Promise<string> {
  const found = await discover(createHttpContext(httpClient), { serverUrl: new URL(serverUrl) });
  return found.authorizationServer.issuer;
}

/** The grant and credentials the scenario's context calls for; none without a context. */
async function credentialOptions(
  scenario: string,
  context: ConformanceContext,
  serverUrl: string,
  httpClient: OAuthHttpClient,
): Promise<Pick<OAuthSessionOptions, 'grant' | 'clientKey'> & { preRegistered?: PreRegisteredClient[] }> {
  const clientId = context.client_id;
  if (clientId === undefined) return {};
  const preRegistered: PreRegisteredClient = {
    issuer: await issuerOf(serverUrl, httpClient),
    clientId,
    ...(context.client_secret === undefined ? {} : { clientSecret: context.client_secret }),
    ...(context.private_key_pem === undefined ? {} : { tokenEndpointAuthMethod: 'private_key_jwt' as const }),
  };
  let grant: GrantOptions = { type: 'authorization_code' };
  if (context.idp_id_token !== undefined && context.idp_client_id !== undefined) {
    // Enterprise-managed authorization: ID token → ID-JAG at the IdP → jwt-bearer grant here.
    grant = {
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
  } else if (scenario.startsWith('auth/client-credentials')) {
    grant = { type: 'client_credentials' };
  }
  const privateKey = context.private_key_pem;
  const algorithm = context.signing_algorithm as SigningAlgorithm | undefined;
  return {
    grant,
    preRegistered: [preRegistered],
    ...(privateKey === undefined
      ? {}
      : { clientKey: privateKeyJwt({ privateKey, ...(algorithm === undefined ? {} : { algorithm }) }) }),
  };
}

async function run(serverUrl: string): Promise<void> {
  const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? '';
  const context = readContext();
  const httpClient = createFetchHttpClient();
  const { preRegistered, ...credentials } = await credentialOptions(scenario, context, serverUrl, httpClient);
  const session = new OAuthSession({
    serverUrl,
    httpClient,
    client: {
      clientName: 'mcp-oauth conformance client',
      redirectUris: [REDIRECT_URI],
      clientMetadataUrl: CLIENT_METADATA_URL,
      ...(preRegistered === undefined ? {} : { preRegistered }),
    },
    authorizationHandler: approveInBackground,
    ...credentials,
  });

  const client = new Client(
    { name: 'mcp-oauth-conformance-client', version: '0.0.0' },
    { capabilities: { elicitation: { form: { applyDefaults: true } } } },
  );
  // Accept every form; the SDK fills in the schema's defaults (SEP-1034).
  client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: {} }));
  const transport = new StreamableHTTPClientTransport(new URL(serverUrl), {
    fetch: withOAuth(fetch, session),
  });
  await client.connect(transport);
  try {
    const { tools } = await client.listTools();
    for (const tool of tools) {
      const toolArguments = TOOL_ARGUMENTS[tool.name];
      if (toolArguments === undefined) continue;
      const result = await client.callTool({ name: tool.name, arguments: toolArguments });
      if (result.isError === true) throw new Error(`tool ${tool.name} returned an error`);
    }
  } finally {
    await client.close();
  }
}

function describeError(error: unknown): string {
  if (isOAuthClientError(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

const serverUrl = process.argv.at(-1);
if (serverUrl === undefined || !/^https?:\/\//.test(serverUrl)) {
  console.error('usage: client.ts <server-url>');
  process.exit(2);
}
for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(event, (error: unknown) => {
    console.error(`failed (${event}): ${describeError(error)}`);
    if (error instanceof Error && error.stack !== undefined) console.error(error.stack);
    process.exit(1);
  });
}
const timer = setTimeout(() => {
  console.error(`gave up after ${OVERALL_TIMEOUT_MS} ms`);
  process.exit(1);
}, OVERALL_TIMEOUT_MS);
timer.unref();
try {
  await run(serverUrl);
  process.exit(0);
} catch (error) {
  console.error(`failed: ${describeError(error)}`);
  process.exit(1);
}
