import { describe, expect, it } from 'vitest';
import { isOAuthClientError } from './errors.js';
import { computeCodeChallenge, generateCodeVerifier, generateState, isCodeVerifier } from './pkce.js';

const UNRESERVED = /^[A-Za-z0-9\-._~]+$/;

describe('computeCodeChallenge', () => {
  it('matches the RFC 7636 Appendix B vector', async () => {
    await expect(computeCodeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).resolves.toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
  });

  it('is base64url without padding (43 characters for SHA-256)', async () => {
    const challenge = await computeCodeChallenge(generateCodeVerifier());
    expect(challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it.each([
    ['too short', 'a'.repeat(42)],
    ['too long', 'a'.repeat(129)],
    ['outside the unreserved set', `${'a'.repeat(42)}+`],
    ['empty', ''],
  ])('rejects a verifier that is %s without echoing it', async (_label, verifier) => {
    const error = await computeCodeChallenge(verifier).catch((caught: unknown) => caught);
    expect(isOAuthClientError(error, 'invalid_options')).toBe(true);
    if (verifier !== '') expect((error as Error).message).not.toContain(verifier);
  });

  it('accepts the boundary lengths 43 and 128', async () => {
    await expect(computeCodeChallenge('a'.repeat(43))).resolves.toMatch(/^[A-Za-z0-9_-]{43}$/);
    await expect(computeCodeChallenge('~'.repeat(128))).resolves.toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('generateCodeVerifier', () => {
  it('is 43 characters from the unreserved set', () => {
    for (let index = 0; index < 50; index++) {
      const verifier = generateCodeVerifier();
      expect(verifier).toHaveLength(43);
      expect(verifier).toMatch(UNRESERVED);
      expect(isCodeVerifier(verifier)).toBe(true);
    }
  });

  it('is different every time', () => {
    const values = new Set(Array.from({ length: 200 }, () => generateCodeVerifier()));
    expect(values.size).toBe(200);
  });
});

describe('generateState', () => {
  it('carries at least 128 bits as base64url', () => {
    const state = generateState();
    // 32 bytes → 43 base64url characters (6 bits each, 256 bits)
    expect(state).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('is different every time and never equals a verifier', () => {
    const values = new Set(Array.from({ length: 200 }, () => generateState()));
    expect(values.size).toBe(200);
    expect(values.has(generateCodeVerifier())).toBe(false);
  });
});
