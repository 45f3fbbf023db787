import type { Command } from '../command.js';
import { CommandError, UsageError } from '../errors.js';
import { findServer } from '../servers.js';
import { openSession, openStores, parseServerUrl } from '../session.js';

export const tokenCommand: Command = {
  name: 'token',
  summary: 'print a valid access token for an MCP server (for scripts)',
  help: `Usage: mcp-oauth token <url>

Prints a valid access token for the MCP server at <url> on stdout, renewing it first if it is
about to expire — for scripts, e.g.:

  curl -H "Authorization: Bearer $(mcp-oauth token https://mcp.example.com/mcp)" …

It never asks you to sign in: sign in first with mcp-oauth login <url>. The token is the only
thing written to stdout; keep it out of logs and shell history.`,
  options: {},
  async run(context, parsed) {
    const [url, ...extra] = parsed.positionals;
    if (extra.length > 0) throw new UsageError('token takes one server URL');
    const serverUrl = parseServerUrl(url);
    const entry = await findServer(openStores(context).directory, serverUrl);
    if (entry === undefined) {
      throw new CommandError(`not signed in to ${serverUrl}`, 'Sign in first: mcp-oauth login <url>');
    }
    const { session, close } = await openSession(context, serverUrl, entry.method, 'never');
    try {
      const token = await session.getAccessToken({ signal: context.signal });
      context.stdout.write(`${token}\n`);
      return 0;
    } finally {
      await close();
    }
  },
};
