import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { type Command, flag } from '../command.js';
import { UsageError } from '../errors.js';
import { connectClient, methodFor } from '../mcp-client.js';
import { openStores, parseServerUrl } from '../session.js';

export const toolsCommand: Command = {
  name: 'tools',
  summary: 'list the tools of an MCP server',
  help: `Usage: mcp-oauth tools <url> [--json] [--device]

Connects to the MCP server at <url> (signing in first if needed) and lists its tools: name and
description, or with --json the tool definitions, input schemas included.

Options:
  --json               the tools as JSON on stdout
  --device             if a sign-in is needed, use a device code (default: how you signed in)`,
  options: { json: { type: 'boolean' }, device: { type: 'boolean' } },
  async run(context, parsed) {
    const [url, ...extra] = parsed.positionals;
    if (extra.length > 0) throw new UsageError('tools takes one server URL');
    const serverUrl = parseServerUrl(url);
    const method = await methodFor(openStores(context).directory, serverUrl, flag(parsed, 'device'));
    const connected = await connectClient(context, serverUrl, method);
    try {
      const tools: Tool[] = [];
      let cursor: string | undefined;
      do {
        const page = await connected.client.listTools(cursor === undefined ? {} : { cursor });
        tools.push(...page.tools);
        cursor = page.nextCursor;
      } while (cursor !== undefined && tools.length < 10_000);
      if (flag(parsed, 'json')) {
        context.stdout.write(`${JSON.stringify(tools, null, 2)}\n`);
      } else if (tools.length === 0) {
        context.stdout.write('The server has no tools.\n');
      } else {
        const width = Math.min(32, Math.max(...tools.map((tool) => tool.name.length)));
        for (const tool of tools) {
          const description = (tool.description ?? tool.title ?? '').split('\n')[0] ?? '';
          const line = `${tool.name.padEnd(width)}  ${description}`.trimEnd();
          context.stdout.write(`${line}\n`);
        }
      }
      return 0;
    } finally {
      await connected.close();
    }
  },
};
