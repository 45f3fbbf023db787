/** The scopes of the demo, and what each one lets a client do, in words a person can check. */
export const TOOLS_SCOPE = 'mcp:tools';
export const ADMIN_SCOPE = 'mcp:admin';
export const OFFLINE_ACCESS_SCOPE = 'offline_access';

/** Scopes the MCP server understands; tokens for it carry only these. */
export const RESOURCE_SCOPES: readonly string[] = [TOOLS_SCOPE, ADMIN_SCOPE];

/** Scopes the authorization server advertises in `scopes_supported`. */
export const ADVERTISED_SCOPES: readonly string[] = [TOOLS_SCOPE, ADMIN_SCOPE, OFFLINE_ACCESS_SCOPE];

const DESCRIPTIONS: Readonly<Record<string, string>> = {
  [TOOLS_SCOPE]: 'Use the server’s tools (for example “echo”).',
  [ADMIN_SCOPE]: 'Read the server’s administrative statistics (“admin_stats”).',
  [OFFLINE_ACCESS_SCOPE]: 'Stay connected: renew access later without asking you again.',
};

export function describeScope(scope: string): string {
  return DESCRIPTIONS[scope] ?? 'A permission this demo does not describe.';
}

/** `"a b  a"` → `['a', 'b']`. */
export function splitScopes(scope: unknown): string[] {
  if (typeof scope !== 'string') return [];
  return [...new Set(scope.split(' ').filter((entry) => entry !== ''))];
}
