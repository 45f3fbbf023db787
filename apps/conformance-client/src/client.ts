/**
 * The client under test for the MCP conformance suite: `client.ts <server-url>`.
 *
 * Everything OAuth is done by @mcp-oauth/core (the session) and @mcp-oauth/fetch (the adapter);
 * `credentials.ts` only turns the suite's environment into configuration:
 * - `MCP_CONFORMANCE_SCENARIO`: the scenario name;
 * - `MCP_CONFORMANCE_CONTEXT`: JSON credentials and inputs for the scenarios that need them;
 * - `MCP_CONFORMANCE_PROTOCOL_VERSION`: the wire to speak. `2026-07-28` is the stateless wire
 *   (`server/discover`, the `MCP-Protocol-Version` header and `params._meta` on every request, no
 *   `initialize`); anything older, or nothing (the 0.1 suite does not set it), is the
 *   `initialize` handshake.
 *
 * MCP is the official TypeScript SDK's v2 `Client` over its Streamable HTTP transport, given
 * `withOAuth(fetch, session)` as its `fetch` (no SDK auth provider): it pins the stateless wire with
 * `versionNegotiation: { pin }`, or runs the plain handshake. The client then does what a host
 * would: lists what the server offers, calls the tools it knows (below) or that the suite names,
 * reads resources and gets prompts, and loads a skill where the scenario is about loading one.
 */
import { isOAuthClientError, OAuthSession } from '@mcp-oauth/core';
import { createFetchHttpClient, withOAuth } from '@mcp-oauth/fetch';
import {
  Client,
  type ClientOptions,
  SdkError,
  SdkErrorCode,
  StreamableHTTPClientTransport,
} from '@modelcontextprotocol/client';
import { SkillsClient } from '@modelcontextprotocol/client/ext/skills';
import { type ConformanceContext, credentialOptions, readContext } from './credentials.ts';

/** Never listened on: the authorization handler reads the code from the redirect's Location. */
const REDIRECT_URI = 'http://127.0.0.1:33418/callback';
/** The suite's fixed Client ID Metadata Document URL (servers accept it without fetching it). */
const CLIENT_METADATA_URL = 'https://conformance-test.local/client-metadata.json';
/** The client gives up on its own before the suite's 30 s limit. */
const OVERALL_TIMEOUT_MS = 20_000;
/** Protocol versions that use the stateless, per-request wire (no `initialize`). */
const STATELESS_VERSIONS = new Set(['2026-07-28']);
const CLIENT_INFO = { name: 'mcp-oauth-conformance-client', version: '0.0.0' };

/** Arguments for the tools the suite's servers offer; other tools are listed but not called. */
const TOOL_ARGUMENTS: Readonly<Record<string, Record<string, unknown>>> = {
  'test-tool': {},
  add_numbers: { a: 5, b: 3 },
  test_client_elicitation_defaults: {},
  test_reconnection: {},
  test_headers: {},
  'my-hyphenated-tool': {},
  valid_tool: { region: 'us-west1' },
  test_mrtr_echo_state: {},
  test_mrtr_no_state: {},
  test_mrtr_unrelated: {},
  test_mrtr_no_result_type: {},
};

/**
 * Tools whose result the SDK refuses on the stateless wire, by design: a result without
 * `resultType` (SEP-2322 says to read it as `complete`; the SDK keeps that reading for servers of
 * earlier revisions and rejects it from a 2026-07-28 server). What the scenario checks, that the
 * client does not retry such a result, holds either way, so that refusal is not a failure here.
 */
const REFUSED_WITHOUT_RESULT_TYPE = new Set(['test_mrtr_no_result_type']);

/** Hands a tool's own `inputSchema` back to the server (JSON Schema 2020-12 keyword preservation). */
const SCHEMA_ECHO = { tool: 'json_schema_echo', schemaOf: 'json_schema_2020_12_tool' };

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

function clientOptions(protocolVersion: string | undefined): ClientOptions {
  return {
    // What the handlers below answer: forms (with the schema's defaults filled in) and roots.
    capabilities: { elicitation: { form: { applyDefaults: true } }, roots: {} },
    ...(protocolVersion !== undefined && STATELESS_VERSIONS.has(protocolVersion)
      ? { versionNegotiation: { mode: { pin: protocolVersion } } }
      : {}),
  };
}

function isMissingResultType(error: unknown): boolean {
  if (!(error instanceof SdkError) || error.code !== SdkErrorCode.InvalidResult) return false;
  const data = error.data as { violation?: unknown } | undefined;
  return data?.violation === 'missing-resultType';
}

async function callTool(client: Client, name: string, args: Record<string, unknown>): Promise<void> {
  let result: Awaited<ReturnType<Client['callTool']>>;
  try {
    result = await client.callTool({ name, arguments: args });
  } catch (error) {
    if (REFUSED_WITHOUT_RESULT_TYPE.has(name) && isMissingResultType(error)) {
      console.error(`tool ${name}: the SDK refused a result without resultType, as it does by design`);
      return;
    }
    throw error;
  }
  if (result.isError === true) throw new Error(`tool ${name} returned an error`);
}

/** SEP-2640 skills: list them; load one only where the scenario is about loading (never prefetch). */
async function exerciseSkills(client: Client, scenario: string): Promise<void> {
  const skills = new SkillsClient(client);
  if (!skills.supported) return;
  const { skills: listed } = await skills.list();
  if (!scenario.startsWith('sep-2640-client-verify-')) return;
  for (const skill of listed) {
    // `read` verifies digest, size and frontmatter against the listing and throws on a mismatch,
    // before any file the skill refers to is read.
    await skills.read(skill);
    // A listed skill names its files; a `dynamic` one does not, and is not read further here.
    const files = Array.isArray(skill.resources) ? skill.resources : [];
    for (const file of files) {
      if (file.uri !== skill.uri) await skills.read(skill, file.uri);
    }
  }
}

/** What a host does once connected: list, call, read and get what the server offers. */
async function exercise(client: Client, scenario: string, context: ConformanceContext): Promise<void> {
  const capabilities = client.getServerCapabilities() ?? {};
  if (capabilities.tools !== undefined) {
    const { tools } = await client.listTools();
    const offered = new Set(tools.map((tool) => tool.name));
    const named = context.toolCalls ?? [];
    for (const call of named) await callTool(client, call.name, call.arguments ?? {});
    if (named.length === 0) {
      for (const tool of tools) {
        const toolArguments = TOOL_ARGUMENTS[tool.name];
        if (toolArguments !== undefined) await callTool(client, tool.name, toolArguments);
      }
      const focal = tools.find((tool) => tool.name === SCHEMA_ECHO.schemaOf);
      if (focal !== undefined && offered.has(SCHEMA_ECHO.tool)) {
        await callTool(client, SCHEMA_ECHO.tool, { schema: focal.inputSchema });
      }
    }
  }
  if (capabilities.resources !== undefined && !scenario.startsWith('sep-2640-')) {
    const { resources } = await client.listResources();
    for (const resource of resources) await client.readResource({ uri: resource.uri });
  }
  if (capabilities.prompts !== undefined) {
    const { prompts } = await client.listPrompts();
    for (const prompt of prompts) await client.getPrompt({ name: prompt.name, arguments: {} });
  }
  await exerciseSkills(client, scenario);
}

async function run(serverUrl: string): Promise<void> {
  const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? '';
  const context = readContext(process.env.MCP_CONFORMANCE_CONTEXT);
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

  const client = new Client(CLIENT_INFO, clientOptions(process.env.MCP_CONFORMANCE_PROTOCOL_VERSION));
  // Accept every form; the SDK fills in the schema's defaults (SEP-1034). On the stateless wire the
  // same handler answers the elicitations a server embeds in an `input_required` result (SEP-2322).
  client.setRequestHandler('elicitation/create', async () => ({ action: 'accept', content: {} }));
  client.setRequestHandler('roots/list', async () => ({ roots: [] }));
  const transport = new StreamableHTTPClientTransport(new URL(serverUrl), {
    fetch: withOAuth(fetch, session),
  });
  await client.connect(transport);
  try {
    await exercise(client, scenario, context);
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
