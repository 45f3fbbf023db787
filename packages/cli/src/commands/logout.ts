import type { Command } from '../command.js';
import { UsageError } from '../errors.js';
import { findServer, forgetServer } from '../servers.js';
import { openSession, openStores, parseServerUrl } from '../session.js';

export const logoutCommand: Command = {
  name: 'logout',
  summary: 'revoke and forget the credentials for an MCP server',
  help: `Usage: mcp-oauth logout <url>

Revokes the refresh and access tokens for the MCP server at <url> at its authorization server
(RFC 7009, when it offers revocation), then forgets them, the client registration and what
discovery found. Running it twice is harmless.`,
  options: {},
  async run(context, parsed) {
    const [url, ...extra] = parsed.positionals;
    if (extra.length > 0) throw new UsageError('logout takes one server URL');
    const serverUrl = parseServerUrl(url);
    const directory = openStores(context).directory;
    const entry = await findServer(directory, serverUrl);
    // Signed out with the grant it signed in with, so that its registration is recognised.
    const { session, close } = await openSession(context, serverUrl, entry?.method ?? 'browser', 'never');
    try {
      const { revoked } = await session.signOut({ forgetClient: true, signal: context.signal });
      const known = await forgetServer(directory, serverUrl);
      context.stderr.write(
        revoked
          ? `Signed out of ${serverUrl}: tokens revoked and forgotten.\n`
          : known
            ? `Signed out of ${serverUrl}: credentials forgotten (the server did not revoke them).\n`
            : `Not signed in to ${serverUrl}.\n`,
      );
      return 0;
    } finally {
      await close();
    }
  },
};
