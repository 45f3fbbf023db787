import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, exportJWK, generateKeyPair, type JWTPayload, SignJWT, UnsecuredJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AccessTokenCheck, createAccessTokenVerifier } from './access-token.js';

const ISSUER = 'http://127.0.0.1:1000';
const AUDIENCE = 'http://127.0.0.1:2000/mcp';
const REVOKED = 'revoked-jti';

let signingKey: CryptoKey;
let strangerKey: CryptoKey;
let verify: (token: string) => Promise<AccessTokenCheck>;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  signingKey = pair.privateKey;
  strangerKey = (await generateKeyPair('ES256')).privateKey;
  const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
  verify = createAccessTokenVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    keys: createLocalJWKSet({ keys: [publicJwk] }),
    algorithms: ['ES256'],
    isRevoked: (jti) => jti === REVOKED,
  });
});

const now = () => Math.floor(Date.now() / 1000);

function claims(overrides: JWTPayload = {}): JWTPayload {
  return {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'demo-user',
    client_id: 'client-1',
    scope: 'mcp:tools mcp:admin',
    jti: randomUUID(),
    iat: now(),
    exp: now() + 60,
    ...overrides,
  };
}

async function sign(
  payload: JWTPayload,
  options: { typ?: string; key?: CryptoKey; kid?: string; drop?: string[] } = {},
): Promise<string> {
  const body = { ...payload };
  for (const claim of options.drop ?? []) delete body[claim];
  return new SignJWT(body)
    .setProtectedHeader({ alg: 'ES256', typ: options.typ ?? 'at+jwt', kid: options.kid ?? 'k1' })
    .sign(options.key ?? signingKey);
}

describe('createAccessTokenVerifier', () => {
  it('accepts a token of the issuer for this audience and reads its scopes', async () => {
    const check = await verify(await sign(claims()));
    expect(check).toMatchObject({
      valid: true,
      token: {
        clientId: 'client-1',
        subject: 'demo-user',
        scopes: ['mcp:tools', 'mcp:admin'],
        jkt: undefined,
      },
    });
  });

  it('accepts an audience array that includes this server', async () => {
    expect((await verify(await sign(claims({ aud: ['https://a.example', AUDIENCE] })))).valid).toBe(true);
  });

  it('reads the DPoP binding', async () => {
    const check = await verify(await sign(claims({ cnf: { jkt: 'thumbprint' } })));
    expect(check).toMatchObject({ valid: true, token: { jkt: 'thumbprint' } });
  });

  it.each<[string, () => Promise<string>, string]>([
    ['expired', () => sign(claims({ exp: now() - 30, iat: now() - 90 })), 'the access token has expired'],
    [
      'for another audience',
      () => sign(claims({ aud: 'http://127.0.0.1:3000/mcp' })),
      'the access token is meant for another resource',
    ],
    [
      'for a prefix of the audience',
      () => sign(claims({ aud: 'http://127.0.0.1:2000' })),
      'the access token is meant for another resource',
    ],
    [
      'from another issuer',
      () => sign(claims({ iss: 'http://127.0.0.1:9' })),
      'the access token comes from another issuer',
    ],
    [
      'not typed at+jwt (an ID token, say)',
      () => sign(claims(), { typ: 'JWT' }),
      'the token is not an access token',
    ],
    [
      'signed with another key',
      () => sign(claims(), { key: strangerKey }),
      'the access token signature does not verify',
    ],
    [
      'signed with an unknown kid',
      () => sign(claims(), { key: strangerKey, kid: 'k2' }),
      'the access token signature does not verify',
    ],
    [
      'unsigned (alg none)',
      async () => new UnsecuredJWT(claims()).encode(),
      'the access token is signed with another algorithm',
    ],
    ['opaque', async () => 'opaque-token-value', 'the access token is not a valid JWT'],
    [
      'without client_id',
      () => sign(claims(), { drop: ['client_id'] }),
      'the access token "client_id" claim is not valid',
    ],
    ['without exp', () => sign(claims(), { drop: ['exp'] }), 'the access token "exp" claim is not valid'],
    [
      'with a non-string scope',
      () => sign(claims({ scope: ['mcp:tools'] })),
      'the access token "scope" must be a string',
    ],
    [
      'bound to a certificate',
      () => sign(claims({ cnf: { 'x5t#S256': 'x' } })),
      'the access token is bound to a key this server cannot check',
    ],
    ['revoked', () => sign(claims({ jti: REVOKED })), 'the access token has been revoked'],
  ])('rejects a token %s', async (_name, token, description) => {
    expect(await verify(await token())).toEqual({ valid: false, description });
  });

  it('never puts the token in a description', async () => {
    const token = await sign(claims({ aud: 'elsewhere' }));
    const check = await verify(token);
    expect(JSON.stringify(check)).not.toContain(token);
  });

  it('throws, rather than blaming the token, when the keys cannot be fetched', async () => {
    const unreachable = createAccessTokenVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: async () => {
        throw new TypeError('fetch failed');
      },
      algorithms: ['ES256'],
      isRevoked: () => false,
    });
    await expect(unreachable(await sign(claims()))).rejects.toThrow('fetch failed');
  });
});
