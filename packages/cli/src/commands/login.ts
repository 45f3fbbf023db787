import { type Command, flag, stringOption } from '../command.js';
import { UsageError } from '../errors.js';
import { rememberServer } from '../servers.js';
import { openSession, parseServerUrl } from '../session.js';
import { describeTokenInfo } from './status.js';

export const loginCommand: Command = {
  name: 'login',
  summary: 'sign in to an MCP server (browser, or --device for SSH and headless machines)',
  help: `Usage: mcp-oauth login <url> [--device] [--scope <scopes>]

Signs in to the MCP server at <url> now: discovers its authorization server, registers this
client if needed, and asks you to authorize — in the browser (a callback on 127.0.0.1), or with
--device by showing a code to enter on any other device (RFC 8628). The credentials are kept in
the configuration directory and renewed automatically by every later command.

Options:
  --device             sign in with a code instead of a browser on this machine
  --scope <scopes>     the scopes to ask for, space-separated (default: what the server names)

Set $BROWSER to choose the browser command (the URL is appended, or replaces %s).`,
  options: {
    device: { type: 'boolean' },
    scope: { type: 'string' },
  },
  async run(context, parsed) {
    const [url, ...extra] = parsed.positionals;
    if (extra.length > 0) throw new UsageError('login takes one server URL');
    const serverUrl = parseServerUrl(url);
    const method = flag(parsed, 'device') ? 'device' : 'browser';
    const scope = stringOption(parsed, 'scope');
    const scopes = scope?.split(/\s+/).filter((item) => item !== '');
    const { session, stores, close } = await openSession(context, serverUrl, method, 'interactive');
    try {
      if (method === 'browser') context.stderr.write(`Signing in to ${serverUrl} in your browser…\n`);
      const info = await session.authorize({
        signal: context.signal,
        ...(scopes === undefined || scopes.length === 0 ? {} : { scopes }),
      });
      await rememberServer(stores.directory, { url: serverUrl, method, signedInAt: Date.now() });
      context.stderr.write(`Signed in to ${serverUrl}.\n${describeTokenInfo(info, Date.now()).join('\n')}\n`);
      return 0;
    } finally {
      await close();
    }
  },
};
