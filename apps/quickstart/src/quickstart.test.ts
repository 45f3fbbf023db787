import { describe, expect, it } from 'vitest';
import { runQuickstart } from './quickstart.js';

describe('the quick start walk', () => {
  it('costs exactly the expected requests, steps up to both scopes and never prints a secret', async () => {
    const lines: string[] = [];
    const result = await runQuickstart({ accessTokenLifetimeSeconds: 2, log: (line) => lines.push(line) });

    expect(result.requests).toEqual({
      // 401 and retry, 403 and retry, one call after the refresh
      'POST /mcp': 5,
      'GET /.well-known/oauth-protected-resource/mcp': 1,
      'GET /.well-known/oauth-authorization-server': 1,
      'POST /register': 1,
      // first authorization, step-up
      'GET /authorize': 2,
      // two authorization codes, one refresh
      'POST /token': 3,
      // the step-up revokes the refresh token it supersedes; sign-out revokes the refresh
      // token, then the access token
      'POST /revoke': 3,
    });
    expect(result.tokenInfo.grantedScopes).toEqual(expect.arrayContaining(['mcp:read', 'mcp:write']));
    expect(result.tokenInfo.hasRefreshToken).toBe(true);
    expect(result.revoked).toBe(true);

    const output = lines.join('\n');
    expect(output).toContain('403 insufficient_scope → step_up');
    // 2 codes, 3 access tokens, 3 refresh tokens
    expect(result.issuedSecrets).toHaveLength(8);
    for (const secret of result.issuedSecrets) expect(output).not.toContain(secret);
  }, 20_000);
});
