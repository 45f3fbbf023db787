import { type DiscoveryRecord, type StoredTokens, type TokenInfo, tokenKey } from '@mcp-oauth/core';
import { type Command, flag } from '../command.js';
import { UsageError } from '../errors.js';
import { readServers, type ServerEntry } from '../servers.js';
import { openStores } from '../session.js';

/** What `status` shows of one server. Never a token: only whether one is held, and until when. */
export interface ServerStatus {
  readonly url: string;
  readonly method: ServerEntry['method'];
  readonly signedIn: boolean;
  readonly issuer?: string;
  readonly clientId?: string;
  readonly scopes?: readonly string[];
  /** ISO 8601, when the access token has an expiry. */
  readonly expiresAt?: string;
  readonly hasRefreshToken?: boolean;
}

function describeExpiry(expiresAt: number | undefined, now: number, renewable: boolean): string {
  if (expiresAt === undefined) return 'no expiry given';
  const seconds = Math.round((expiresAt - now) / 1000);
  const when = new Date(expiresAt).toISOString();
  if (seconds > 0) return `${when} (in ${formatDuration(seconds)})`;
  return `${when} (expired${renewable ? '; renewed on next use' : ''})`;
}

function formatDuration(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} days`;
}

/** Lines describing held tokens (used by `login` and `status`). */
export function describeTokenInfo(
  info: Pick<TokenInfo, 'issuer' | 'clientId' | 'grantedScopes' | 'expiresAt' | 'hasRefreshToken'>,
  now: number,
): string[] {
  return [
    `  issuer         ${info.issuer}`,
    `  client         ${info.clientId}`,
    `  scopes         ${info.grantedScopes.length === 0 ? '(none named)' : info.grantedScopes.join(' ')}`,
    `  expires        ${describeExpiry(info.expiresAt, now, info.hasRefreshToken)}`,
    `  refresh token  ${info.hasRefreshToken ? 'yes' : 'no'}`,
  ];
}

async function statusOf(entry: ServerEntry, stores: ReturnType<typeof openStores>): Promise<ServerStatus> {
  const record: DiscoveryRecord | undefined = await stores.discovery.get(entry.url);
  if (record?.clientId === undefined) return { url: entry.url, method: entry.method, signedIn: false };
  const tokens: StoredTokens | undefined = await stores.tokens.get(
    tokenKey(record.issuer, record.resource, record.clientId),
  );
  const base = { url: entry.url, method: entry.method, issuer: record.issuer, clientId: record.clientId };
  if (tokens === undefined) return { ...base, signedIn: false };
  return {
    ...base,
    signedIn: true,
    scopes: [...tokens.grantedScopes],
    ...(tokens.expiresAt === undefined ? {} : { expiresAt: new Date(tokens.expiresAt).toISOString() }),
    hasRefreshToken: tokens.refreshToken !== undefined,
  };
}

export const statusCommand: Command = {
  name: 'status',
  summary: 'list the servers you signed in to: issuer, client, scopes, expiry (never a token)',
  help: `Usage: mcp-oauth status [--json]

Lists each MCP server you signed in to with mcp-oauth login, and for each: how you signed in,
the authorization server (issuer), the client id, the granted scopes, when the access token
expires and whether a refresh token is held. It reads the configuration directory only: no
network request, and no token is ever printed.

Options:
  --json               one JSON document on stdout instead of text`,
  options: { json: { type: 'boolean' } },
  async run(context, parsed) {
    if (parsed.positionals.length > 0) throw new UsageError('status takes no arguments');
    const stores = openStores(context);
    const servers = await readServers(stores.directory);
    const statuses = await Promise.all(servers.map((entry) => statusOf(entry, stores)));
    if (flag(parsed, 'json')) {
      context.stdout.write(
        `${JSON.stringify({ directory: stores.directory, servers: statuses }, null, 2)}\n`,
      );
      return 0;
    }
    if (statuses.length === 0) {
      context.stdout.write(`Not signed in to any server. (Credentials directory: ${stores.directory})\n`);
      return 0;
    }
    const now = Date.now();
    const lines: string[] = [];
    for (const status of statuses) {
      lines.push(status.url);
      lines.push(
        `  signed in      ${status.signedIn ? `yes (${status.method === 'device' ? 'device code' : 'browser'})` : 'no'}`,
      );
      if (status.signedIn && status.issuer !== undefined && status.clientId !== undefined) {
        lines.push(
          ...describeTokenInfo(
            {
              issuer: status.issuer,
              clientId: status.clientId,
              grantedScopes: status.scopes ?? [],
              expiresAt: status.expiresAt === undefined ? undefined : Date.parse(status.expiresAt),
              hasRefreshToken: status.hasRefreshToken ?? false,
            },
            now,
          ),
        );
      }
      lines.push('');
    }
    lines.push(`Credentials directory: ${stores.directory}`);
    context.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};
