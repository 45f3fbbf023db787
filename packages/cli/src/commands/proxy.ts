import { type Command, flag } from '../command.js';
import { UsageError } from '../errors.js';
import { methodFor } from '../mcp-client.js';
import { oauthFetch } from '../oauth-fetch.js';
import { runProxy } from '../proxy.js';
import { openSession, openStores, parseServerUrl } from '../session.js';

export const proxyCommand: Command = {
  name: 'proxy',
  summary: 'bridge stdio to an OAuth-protected Streamable HTTP MCP server (for stdio-only MCP hosts)',
  help: `Usage: mcp-oauth proxy <url> [--device]

Runs as a stdio MCP server for hosts that only spawn local servers (desktop clients, the MCP
Inspector) and forwards every message to the remote MCP server at <url> over Streamable HTTP,
with your credentials: JSON-RPC lines on stdin, responses and server messages on stdout, and
nothing else on stdout. Tokens are renewed as they expire, and several proxies for one server
share one token and one refresh. When the server needs a new authorization or more scopes
(step-up), the browser opens (or with --device a code is printed on stderr); sign in ahead of
time with mcp-oauth login <url> to avoid that at start.

Options:
  --device             if a sign-in is needed, use a device code (default: how you signed in)

Example host configuration (Claude Desktop, claude_desktop_config.json):
  { "mcpServers": { "example": { "command": "npx",
      "args": ["-y", "@mcp-oauth/cli", "proxy", "https://mcp.example.com/mcp"] } } }`,
  options: { device: { type: 'boolean' } },
  async run(context, parsed) {
    const [url, ...extra] = parsed.positionals;
    if (extra.length > 0) throw new UsageError('proxy takes one server URL');
    const serverUrl = parseServerUrl(url);
    const method = await methodFor(openStores(context).directory, serverUrl, flag(parsed, 'device'));
    const { session, close } = await openSession(context, serverUrl, method, 'interactive');
    try {
      return await runProxy({
        serverUrl,
        fetch: oauthFetch(session, context.log),
        stdin: context.stdin,
        stdout: context.stdout,
        stderr: context.stderr,
        log: context.log,
        signal: context.signal,
      });
    } finally {
      await close();
    }
  },
};
