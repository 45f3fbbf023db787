import { createHash, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  computeJwkThumbprint,
  createDpopProof,
  type DpopKey,
  DpopNonceStore,
  exportDpopKey,
  generateDpopKey,
  importDpopKey,
} from './dpop.js';
import { base64Decode, utf8Decode } from './encoding.js';
import { isOAuthClientError } from './errors.js';

interface DecodedProof {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: string;
  signature: Uint8Array;
}

function decode(proof: string): DecodedProof {
  const parts = proof.split('.');
  expect(parts).toHaveLength(3);
  const [header, payload, signature] = parts as [string, string, string];
  for (const part of parts) expect(part).toMatch(/^[A-Za-z0-9_-]+$/);
  return {
    header: JSON.parse(utf8Decode(base64Decode(header))) as Record<string, unknown>,
    payload: JSON.parse(utf8Decode(base64Decode(payload))) as Record<string, unknown>,
    signingInput: `${header}.${payload}`,
    signature: base64Decode(signature),
  };
}

/** Verifies an ES256 JWS with node:crypto, independently of the code under test. */
function verifiesWith(jwk: JsonWebKey, decoded: DecodedProof): boolean {
  const key = createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
  return verify(
    'sha256',
    Buffer.from(decoded.signingInput),
    { key, dsaEncoding: 'ieee-p1363' },
    Buffer.from(decoded.signature),
  );
}

function handThumbprint(jwk: JsonWebKey): string {
  const canonical = `{"crv":"${jwk.crv}","kty":"${jwk.kty}","x":"${jwk.x}","y":"${jwk.y}"}`;
  return createHash('sha256').update(canonical).digest('base64url');
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(isOAuthClientError(error, code as never)).toBe(true);
  return error as Error;
}

const NOW = 1_700_000_000_123;

describe('generateDpopKey', () => {
  it('creates an extractable P-256 key with a public JWK of four members', async () => {
    const key = await generateDpopKey();
    expect(Object.keys(key.publicJwk).sort()).toEqual(['crv', 'kty', 'x', 'y']);
    expect(key.publicJwk.kty).toBe('EC');
    expect(key.publicJwk.crv).toBe('P-256');
    expect(key.privateKey.type).toBe('private');
    expect(key.privateKey.extractable).toBe(true);
    expect(key.privateKey.usages).toEqual(['sign']);
  });

  it('has the RFC 7638 thumbprint of its public key', async () => {
    const key = await generateDpopKey();
    expect(key.thumbprint).toBe(handThumbprint(key.publicJwk));
    expect(key.thumbprint).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('creates a different key every time', async () => {
    const [first, second] = await Promise.all([generateDpopKey(), generateDpopKey()]);
    expect(first.thumbprint).not.toBe(second.thumbprint);
  });
});

describe('computeJwkThumbprint', () => {
  it('matches a hand-computed SHA-256 of the canonical EC JSON, ignoring other members', async () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' }) as JsonWebKey;
    await expect(
      computeJwkThumbprint({ ...jwk, kid: 'ignored', use: 'sig', alg: 'ES256' } as JsonWebKey),
    ).resolves.toBe(handThumbprint(jwk));
  });

  it('matches the RFC 7638 §3.1 RSA example', async () => {
    const n =
      '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw';
    await expect(
      computeJwkThumbprint({ kty: 'RSA', n, e: 'AQAB', alg: 'RS256', kid: '2011-04-29' } as JsonWebKey),
    ).resolves.toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });

  it.each<[string, JsonWebKey]>([
    ['an unknown kty', { kty: 'oct', k: 'abc' }],
    ['an EC key without y', { kty: 'EC', crv: 'P-256', x: 'abc' }],
  ])('rejects %s', async (_label, jwk) => {
    await expectCode(computeJwkThumbprint(jwk), 'invalid_key');
  });
});

describe('createDpopProof', () => {
  it('produces an ES256 JWS that node:crypto verifies with the header key', async () => {
    const key = await generateDpopKey();
    const decoded = decode(
      await createDpopProof(key, { method: 'post', url: 'https://as.example/token', now: NOW }),
    );
    expect(decoded.header).toEqual({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.publicJwk });
    expect(decoded.signature).toHaveLength(64);
    expect(verifiesWith(decoded.header.jwk as JsonWebKey, decoded)).toBe(true);
  });

  it('fails verification when the payload is altered (the check can fail)', async () => {
    const key = await generateDpopKey();
    const decoded = decode(
      await createDpopProof(key, { method: 'GET', url: 'https://rs.example/', now: NOW }),
    );
    const other = await generateDpopKey();
    expect(verifiesWith(other.publicJwk, decoded)).toBe(false);
    expect(verifiesWith(key.publicJwk, { ...decoded, signingInput: `${decoded.signingInput}x` })).toBe(false);
  });

  it('sets the claims', async () => {
    const key = await generateDpopKey();
    const { payload } = decode(
      await createDpopProof(key, {
        method: 'post',
        url: 'https://AS.example:443/token?x=SECRET#frag',
        now: NOW,
      }),
    );
    expect(payload).toEqual({
      jti: expect.stringMatching(/^[A-Za-z0-9_-]{22,}$/),
      htm: 'POST',
      htu: 'https://as.example/token',
      iat: 1_700_000_000,
    });
  });

  it.each([
    ['https://rs.example/mcp?session=1', 'https://rs.example/mcp'],
    ['https://rs.example/mcp#top', 'https://rs.example/mcp'],
    ['https://rs.example', 'https://rs.example/'],
    ['http://127.0.0.1:8080/a/b?c=d#e', 'http://127.0.0.1:8080/a/b'],
  ])('htu of %s is %s', async (url, htu) => {
    const key = await generateDpopKey();
    expect(decode(await createDpopProof(key, { method: 'GET', url, now: NOW })).payload.htu).toBe(htu);
  });

  it('adds nonce and the RFC 9449 §7.1 ath', async () => {
    const key = await generateDpopKey();
    const { payload } = decode(
      await createDpopProof(key, {
        method: 'GET',
        url: 'https://resource.example.org/protectedresource',
        now: NOW,
        nonce: 'eyJ7S_zG.eyJH0-Z.HX4w-7v',
        accessToken: 'Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU',
      }),
    );
    expect(payload.nonce).toBe('eyJ7S_zG.eyJH0-Z.HX4w-7v');
    expect(payload.ath).toBe('fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo');
  });

  it('leaves out nonce and ath when not given', async () => {
    const key = await generateDpopKey();
    const { payload } = decode(
      await createDpopProof(key, { method: 'GET', url: 'https://rs.example/', now: NOW }),
    );
    expect(payload).not.toHaveProperty('nonce');
    expect(payload).not.toHaveProperty('ath');
  });

  it('uses a fresh jti of at least 96 bits each time', async () => {
    const key = await generateDpopKey();
    const jtis = new Set<unknown>();
    for (let index = 0; index < 20; index++) {
      const { payload } = decode(
        await createDpopProof(key, { method: 'GET', url: 'https://rs.example/', now: NOW }),
      );
      expect(base64Decode(payload.jti as string).length).toBeGreaterThanOrEqual(12);
      jtis.add(payload.jti);
    }
    expect(jtis.size).toBe(20);
  });

  it.each<[string, Partial<Parameters<typeof createDpopProof>[1]>]>([
    ['a bad method', { method: 'GE T' }],
    ['a relative url', { url: '/token' }],
    ['a non-http url', { url: 'ftp://as.example/token' }],
    ['a nonce with a quote', { nonce: 'a"b' }],
    ['an empty nonce', { nonce: '' }],
    ['an empty access token', { accessToken: '' }],
    ['a non-finite now', { now: Number.NaN }],
  ])('rejects %s', async (_label, overrides) => {
    const key = await generateDpopKey();
    const error = await expectCode(
      createDpopProof(key, { method: 'GET', url: 'https://rs.example/?q=SECRET', now: NOW, ...overrides }),
      'invalid_options',
    );
    expect(error.message).not.toContain('SECRET');
  });
});

describe('exportDpopKey / importDpopKey', () => {
  it('round-trips a key that still signs verifiable proofs', async () => {
    const key = await generateDpopKey();
    const exported = await exportDpopKey(key);
    expect(Object.keys(exported.publicJwk).sort()).toEqual(['crv', 'kty', 'x', 'y']);
    expect(Object.keys(exported.privateJwk).sort()).toEqual(['crv', 'd', 'kty', 'x', 'y']);
    // survives JSON storage
    const restored = await importDpopKey(JSON.parse(JSON.stringify(exported)) as typeof exported);
    expect(restored.publicJwk).toEqual(key.publicJwk);
    expect(restored.thumbprint).toBe(key.thumbprint);
    const decoded = decode(
      await createDpopProof(restored, { method: 'GET', url: 'https://rs.example/', now: NOW }),
    );
    expect(verifiesWith(key.publicJwk, decoded)).toBe(true);
    // and can be exported again
    await expect(exportDpopKey(restored)).resolves.toEqual(exported);
  });

  it('accepts JWKs carrying ext and key_ops', async () => {
    const key = await generateDpopKey();
    const { publicJwk, privateJwk } = await exportDpopKey(key);
    const restored = await importDpopKey({
      publicJwk: { ...publicJwk, ext: true, key_ops: ['verify'] },
      privateJwk: { ...privateJwk, ext: true, key_ops: ['sign'] },
    });
    expect(restored.thumbprint).toBe(key.thumbprint);
  });

  it('refuses a private key from another pair', async () => {
    const [first, second] = await Promise.all([generateDpopKey(), generateDpopKey()]);
    const a = await exportDpopKey(first);
    const b = await exportDpopKey(second);
    // mismatched x/y
    await expectCode(importDpopKey({ publicJwk: a.publicJwk, privateJwk: b.privateJwk }), 'invalid_key');
    // matching x/y but the scalar of another key
    await expectCode(
      importDpopKey({ publicJwk: a.publicJwk, privateJwk: { ...a.privateJwk, d: b.privateJwk.d as string } }),
      'invalid_key',
    );
  });

  it.each<[string, (pair: { publicJwk: JsonWebKey; privateJwk: JsonWebKey }) => unknown]>([
    ['null', () => null],
    ['a missing private key', (pair) => ({ publicJwk: pair.publicJwk })],
    ['no d', (pair) => ({ ...pair, privateJwk: pair.publicJwk })],
    ['a short d', (pair) => ({ ...pair, privateJwk: { ...pair.privateJwk, d: 'SECRET' } })],
    ['the wrong curve', (pair) => ({ ...pair, publicJwk: { ...pair.publicJwk, crv: 'P-384' } })],
    ['an RSA key', (pair) => ({ ...pair, publicJwk: { kty: 'RSA', n: 'x', e: 'AQAB' } })],
    [
      'a point off the curve',
      (pair) => {
        const x = 'A'.repeat(43);
        return { publicJwk: { ...pair.publicJwk, x }, privateJwk: { ...pair.privateJwk, x } };
      },
    ],
  ])('rejects %s with invalid_key and never echoes the key', async (_label, mutate) => {
    const key = await generateDpopKey();
    const exported = await exportDpopKey(key);
    const error = await expectCode(importDpopKey(mutate(exported) as typeof exported), 'invalid_key');
    for (const text of [error.message, JSON.stringify(error), inspect(error)]) {
      expect(text).not.toContain(exported.privateJwk.d);
      expect(text).not.toContain('SECRET');
    }
  });

  it('refuses to export a non-extractable key', async () => {
    const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
      'sign',
      'verify',
    ]);
    const publicJwk = await crypto.subtle.exportKey('jwk', pair.publicKey);
    const key: DpopKey = {
      privateKey: pair.privateKey,
      publicJwk: { kty: 'EC', crv: 'P-256', x: publicJwk.x!, y: publicJwk.y! },
      thumbprint: await computeJwkThumbprint(publicJwk),
    };
    await expectCode(exportDpopKey(key), 'invalid_key');
    // it can still sign
    const decoded = decode(
      await createDpopProof(key, { method: 'GET', url: 'https://rs.example/', now: NOW }),
    );
    expect(verifiesWith(key.publicJwk, decoded)).toBe(true);
  });
});

describe('DpopNonceStore', () => {
  it('keeps one nonce per origin', () => {
    const store = new DpopNonceStore();
    store.set('https://as.example/token', 'n1');
    expect(store.get('https://as.example/other?x=1')).toBe('n1');
    expect(store.get('https://AS.example:443/')).toBe('n1');
    expect(store.get('https://rs.example/mcp')).toBeUndefined();
    expect(store.get('http://as.example/token')).toBeUndefined();
    expect(store.get('https://as.example:8443/token')).toBeUndefined();
    store.set('https://as.example/', 'n2');
    expect(store.get('https://as.example/token')).toBe('n2');
    expect(store.size).toBe(1);
    store.delete('https://as.example/x');
    expect(store.get('https://as.example/token')).toBeUndefined();
  });

  it.each([
    ['empty', ''],
    ['too long', 'a'.repeat(513)],
    ['containing a space', 'a b'],
    ['containing a quote', 'a"b'],
    ['containing a backslash', 'a\\b'],
    ['containing a newline', 'a\nb'],
    ['non-ASCII', 'nonce\u00e9'],
  ])('ignores a nonce that is %s', (_label, nonce) => {
    const store = new DpopNonceStore();
    store.set('https://as.example/', 'good');
    store.set('https://as.example/', nonce);
    expect(store.get('https://as.example/')).toBe('good');
  });

  it('accepts a 512-character nonce', () => {
    const store = new DpopNonceStore();
    store.set('https://as.example/', 'a'.repeat(512));
    expect(store.get('https://as.example/')).toHaveLength(512);
  });

  it('ignores URLs it cannot key', () => {
    const store = new DpopNonceStore();
    store.set('not a url', 'n');
    store.set('file:///etc/passwd', 'n');
    expect(store.size).toBe(0);
    expect(store.get('not a url')).toBeUndefined();
  });

  it('holds at most maxOrigins, dropping the oldest', () => {
    const store = new DpopNonceStore({ maxOrigins: 3 });
    for (const name of ['a', 'b', 'c']) store.set(`https://${name}.example/`, name);
    store.set('https://a.example/', 'a2'); // refreshes a
    store.set('https://d.example/', 'd');
    expect(store.size).toBe(3);
    expect(store.get('https://b.example/')).toBeUndefined();
    expect(store.get('https://a.example/')).toBe('a2');
    expect(store.get('https://c.example/')).toBe('c');
    expect(store.get('https://d.example/')).toBe('d');
  });

  it('defaults to 100 origins', () => {
    const store = new DpopNonceStore();
    for (let index = 0; index < 150; index++) store.set(`https://host${index}.example/`, `n${index}`);
    expect(store.size).toBe(100);
    expect(store.get('https://host49.example/')).toBeUndefined();
    expect(store.get('https://host50.example/')).toBe('n50');
  });

  it('rejects a bad maxOrigins', () => {
    expect(() => new DpopNonceStore({ maxOrigins: 0 })).toThrow(
      expect.objectContaining({ code: 'invalid_options' }),
    );
  });
});
