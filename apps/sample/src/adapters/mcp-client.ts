/** What each adapter module gives the demo: the session and the MCP steps, whatever the library. */
import type { OAuthSession } from '@mcp-oauth/core';
import type { SampleOptions } from '../session.js';

export interface McpClient {
  readonly session: OAuthSession;
  /** `initialize`: the first request, so the one that meets the `401`. */
  connect(): Promise<void>;
  /** The names of the server's tools. */
  listTools(): Promise<string[]>;
  /** The text of a tool's result; rejects when the tool reports an error. */
  callTool(name: string, args?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

export type ConnectAdapter = (options: SampleOptions) => McpClient;

/** The text content of a `tools/call` result (`{ content: [{ type: 'text', text }], isError? }`). */
export function toolText(name: string, result: unknown): string {
  const { content, isError } = (result ?? {}) as { content?: unknown; isError?: unknown };
  const text = Array.isArray(content)
    ? content
        .filter((part): part is { type: 'text'; text: string } => part?.type === 'text')
        .map((part) => part.text)
        .join('\n')
    : '';
  if (isError === true) throw new Error(`the tool "${name}" reported an error: ${text}`);
  return text;
}
