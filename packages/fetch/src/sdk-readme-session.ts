// Test-only: the `session` the README's MCP SDK v2 example (readme.sdk-v2.example.ts) uses, which
// in the README comes from the example above it. A test sets it before importing the example.
import type { OAuthSession } from '@mcp-oauth/core';

export let session: OAuthSession;

export function useSession(value: OAuthSession): void {
  session = value;
}
