import { type Command, flag } from '../command.js';
import { UsageError } from '../errors.js';
import { connectClient, methodFor } from '../mcp-client.js';
import { openStores, parseServerUrl } from '../session.js';

/** The tool arguments: a JSON object, `-` for one read from stdin, or nothing. */
async function readArguments(
  text: string | undefined,
  stdin: NodeJS.ReadableStream,
): Promise<Record<string, unknown>> {
  if (text === undefined) return {};
  let source = text;
  if (text === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
    source = Buffer.concat(chunks).toString('utf8');
  }
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch {
    throw new UsageError('the tool arguments must be a JSON object, e.g. \'{"message":"hi"}\'');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError('the tool arguments must be a JSON object, e.g. \'{"message":"hi"}\'');
  }
  return value as Record<string, unknown>;
}

interface ContentItem {
  readonly type: string;
  readonly text?: string;
  readonly [field: string]: unknown;
}

export const callCommand: Command = {
  name: 'call',
  summary: 'call a tool of an MCP server and print its result',
  help: `Usage: mcp-oauth call <url> <tool> [json] [--json] [--device]

Calls <tool> on the MCP server at <url> with the arguments in [json] (a JSON object; "-" reads it
from stdin) and prints the result: text content as text, anything else as JSON. Exits with 1
when the tool reports an error. If the tool needs more scopes than you granted, you are asked to
authorize them (step-up) and the call is sent again.

Options:
  --json               the whole result as JSON on stdout
  --device             if a sign-in is needed, use a device code (default: how you signed in)`,
  options: { json: { type: 'boolean' }, device: { type: 'boolean' } },
  async run(context, parsed) {
    const [url, tool, json, ...extra] = parsed.positionals;
    if (tool === undefined || tool === '') throw new UsageError('call needs a server URL and a tool name');
    if (extra.length > 0) throw new UsageError('call takes a server URL, a tool name and one JSON argument');
    const serverUrl = parseServerUrl(url);
    const args = await readArguments(json, context.stdin);
    const method = await methodFor(openStores(context).directory, serverUrl, flag(parsed, 'device'));
    const connected = await connectClient(context, serverUrl, method);
    try {
      const result = await connected.client.callTool({ name: tool, arguments: args });
      if (flag(parsed, 'json')) {
        context.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      } else {
        const content = (Array.isArray(result.content) ? result.content : []) as ContentItem[];
        for (const item of content) {
          context.stdout.write(
            item.type === 'text' && typeof item.text === 'string'
              ? `${item.text}\n`
              : `${JSON.stringify(item)}\n`,
          );
        }
        if (content.length === 0 && result.structuredContent !== undefined) {
          context.stdout.write(`${JSON.stringify(result.structuredContent, null, 2)}\n`);
        }
      }
      return result.isError === true ? 1 : 0;
    } finally {
      await connected.close();
    }
  },
};
