/**
 * One session per command, for one MCP server: the file stores in the user's configuration
 * directory (shared with every other `mcp-oauth` process, so several proxies share one token and
 * one refresh), the grant the user signs in with, and the debug log.
 */
import { createRequire } from 'node:module';
import { type GrantOptions, isOAuthClientError, OAuthClientError, OAuthSession } from '@mcp-oauth/core';
import { deviceCode } from '@mcp-oauth/core/device';
import { canonicalResourceUrl } from '@mcp-oauth/core/protocol';
import { createFetchHttpClient } from '@mcp-oauth/fetch';
import { createFileStores, createLoopbackAuthorizationHandler, type FileStores } from '@mcp-oauth/node';
import { UsageError } from './errors.js';
import { type DebugLog, oauthLogger } from './log.js';
import { networkFetch } from './oauth-fetch.js';
import { createOpener, printDeviceCode } from './prompt.js';
import type { LoginMethod } from './servers.js';

const require = createRequire(import.meta.url);
export const VERSION: string = (require('../package.json') as { version: string }).version;

export const CLIENT_NAME = 'mcp-oauth CLI';

export interface CliContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly log: DebugLog;
  /** `--config-dir` or `MCP_OAUTH_CONFIG_DIR`; undefined for the per-user default. */
  readonly configDirectory: string | undefined;
  /** Aborts on Ctrl-C. */
  readonly signal: AbortSignal;
}

/** `interactive`: bring the user in when needed. `never`: fail with `authorization_required` instead (scripts). */
export type Interaction = 'interactive' | 'never';

export interface OpenSession {
  readonly session: OAuthSession;
  readonly stores: FileStores;
  close(): Promise<void>;
}

/** The canonical form of a server URL (what the session and the stores key it by), or an error. */
export function parseServerUrl(value: string | undefined): string {
  if (value === undefined || value === '') throw new UsageError('a server URL is required');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(
      `"${value}" is not a URL: give the full URL of the MCP server, e.g. https://mcp.example.com/mcp`,
    );
  }
  if (url.username !== '' || url.password !== '')
    throw new UsageError('the server URL must not contain credentials');
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(`a ${url.protocol} URL is not an MCP server: give its https URL`);
  }
  return new URL(canonicalResourceUrl(url)).href; // exactly session.serverUrl.href
}

export function openStores(context: CliContext): FileStores {
  return createFileStores(
    context.configDirectory === undefined ? {} : { directory: context.configDirectory },
  );
}

export async function openSession(
  context: CliContext,
  serverUrl: string,
  method: LoginMethod,
  interaction: Interaction,
): Promise<OpenSession> {
  const stores = openStores(context);
  const common = {
    serverUrl,
    httpClient: createFetchHttpClient(networkFetch()),
    stores,
    logger: oauthLogger(context.log),
  };
  const clientBase = { clientName: CLIENT_NAME, softwareId: 'mcp-oauth-cli', softwareVersion: VERSION };
  if (method === 'device') {
    const grant: GrantOptions = deviceCode({
      onUserCode:
        interaction === 'interactive'
          ? (prompt) => printDeviceCode(context.stderr, prompt)
          : () => {
              throw new OAuthClientError(
                'authorization_required',
                'the stored sign-in cannot be renewed without you',
              );
            },
    });
    const session = new OAuthSession({ ...common, grant, client: clientBase });
    return { session, stores, close: async () => {} };
  }
  if (interaction === 'never') {
    // No callback server: an authorization would throw `authorization_required`. The redirect URI
    // only lets the stored registration be recognised (loopback ports are not compared).
    const session = new OAuthSession({
      ...common,
      client: { ...clientBase, redirectUris: ['http://127.0.0.1/callback'] },
    });
    return { session, stores, close: async () => {} };
  }
  const loopback = await createLoopbackAuthorizationHandler({
    open: createOpener(context.env, context.stderr),
  });
  const session = new OAuthSession({
    ...common,
    client: { ...clientBase, redirectUris: [loopback.redirectUri] },
    authorizationHandler: loopback.handler,
  });
  return { session, stores, close: () => loopback.close() };
}

/** Whether `error` says the user has to sign in (again). */
export function needsSignIn(error: unknown): boolean {
  return isOAuthClientError(error, 'authorization_required');
}
