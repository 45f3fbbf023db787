import { createPublicKey, generateKeyPairSync, type KeyObject, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { base64Decode, base64urlEncode, utf8Decode } from './encoding.js';
import { isOAuthClientError } from './errors.js';
import { decodeJwtPayload, signJwt } from './jwt.js';
import { importSigningKey, type SigningAlgorithm } from './signing-key.js';

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

function pem(key: KeyObject, type: 'pkcs8' | 'sec1' | 'pkcs1'): string {
  return key.export({ format: 'pem', type } as never) as string;
}

function jwk(key: KeyObject): JsonWebKey {
  return key.export({ format: 'jwk' }) as JsonWebKey;
}

function decodePart(part: string | undefined): Record<string, unknown> {
  return JSON.parse(utf8Decode(base64Decode(part ?? '')));
}

/** Verifies a compact JWS with node:crypto, independently of the code under test. */
function verifies(token: string, publicKey: KeyObject, algorithm: SigningAlgorithm): boolean {
  const [header, payload, signature] = token.split('.');
  const data = Buffer.from(`${header}.${payload}`);
  const bytes = Buffer.from(signature ?? '', 'base64url');
  if (algorithm === 'ES256') {
    return verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, bytes);
  }
  return verify('sha256', data, publicKey, bytes);
}

async function expectInvalidKey(promise: Promise<unknown>, secret?: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(isOAuthClientError(error, 'invalid_key')).toBe(true);
  if (secret !== undefined) {
    expect(String(error)).not.toContain(secret);
    expect(JSON.stringify(error)).not.toContain(secret);
  }
}

describe('importSigningKey and signJwt', () => {
  const cases: Array<{
    name: string;
    input: () => Promise<unknown> | unknown;
    publicKey: KeyObject;
    alg: SigningAlgorithm;
  }> = [
    {
      name: 'PKCS#8 PEM (EC)',
      input: () => pem(ec.privateKey, 'pkcs8'),
      publicKey: ec.publicKey,
      alg: 'ES256',
    },
    { name: 'SEC1 PEM', input: () => pem(ec.privateKey, 'sec1'), publicKey: ec.publicKey, alg: 'ES256' },
    {
      name: 'PKCS#8 PEM (RSA)',
      input: () => pem(rsa.privateKey, 'pkcs8'),
      publicKey: rsa.publicKey,
      alg: 'RS256',
    },
    { name: 'PKCS#1 PEM', input: () => pem(rsa.privateKey, 'pkcs1'), publicKey: rsa.publicKey, alg: 'RS256' },
    { name: 'EC JWK', input: () => jwk(ec.privateKey), publicKey: ec.publicKey, alg: 'ES256' },
    { name: 'RSA JWK', input: () => jwk(rsa.privateKey), publicKey: rsa.publicKey, alg: 'RS256' },
    {
      name: 'EC CryptoKey',
      input: () =>
        crypto.subtle.importKey(
          'pkcs8',
          ec.privateKey.export({ format: 'der', type: 'pkcs8' }),
          { name: 'ECDSA', namedCurve: 'P-256' },
          false,
          ['sign'],
        ),
      publicKey: ec.publicKey,
      alg: 'ES256',
    },
    {
      name: 'RSA CryptoKey',
      input: () =>
        crypto.subtle.importKey(
          'pkcs8',
          rsa.privateKey.export({ format: 'der', type: 'pkcs8' }),
          { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
          false,
          ['sign'],
        ),
      publicKey: rsa.publicKey,
      alg: 'RS256',
    },
  ];

  for (const { name, input, publicKey, alg } of cases) {
    it(`imports a ${name}, infers ${alg} and signs a verifiable JWT`, async () => {
      const key = await importSigningKey((await input()) as never);
      expect(key.algorithm).toBe(alg);
      expect(key.key.type).toBe('private');
      const token = await signJwt({ typ: 'JWT' }, { sub: 'client', n: 1 }, key.key, key.algorithm);
      expect(verifies(token, publicKey, alg)).toBe(true);
      const [header, payload, signature] = token.split('.');
      expect(header).toBe(base64urlEncode(JSON.stringify({ alg, typ: 'JWT' })));
      expect(decodePart(payload)).toEqual({ sub: 'client', n: 1 });
      if (alg === 'ES256') expect(base64Decode(signature ?? '')).toHaveLength(64);
      // A tampered payload must not verify.
      const tampered = `${header}.${base64urlEncode(JSON.stringify({ sub: 'other', n: 1 }))}.${signature}`;
      expect(verifies(tampered, publicKey, alg)).toBe(false);
    });
  }

  it('accepts the expected algorithm and a key id; a JWK kid is used when none is given', async () => {
    const withOption = await importSigningKey(pem(ec.privateKey, 'pkcs8'), {
      algorithm: 'ES256',
      keyId: 'k1',
    });
    expect(withOption.keyId).toBe('k1');
    const fromJwk = await importSigningKey({ ...jwk(rsa.privateKey), kid: 'jwk-kid' } as JsonWebKey);
    expect(fromJwk.keyId).toBe('jwk-kid');
    const overridden = await importSigningKey({ ...jwk(rsa.privateKey), kid: 'jwk-kid' } as JsonWebKey, {
      keyId: 'mine',
    });
    expect(overridden.keyId).toBe('mine');
    const none = await importSigningKey(jwk(ec.privateKey));
    expect('keyId' in none).toBe(false);
  });

  it('ignores key_ops, use=sig and ext on a JWK', async () => {
    const key = await importSigningKey({
      ...jwk(ec.privateKey),
      key_ops: ['verify'],
      ext: false,
      use: 'sig',
    });
    expect(key.algorithm).toBe('ES256');
  });

  it('rejects an algorithm that does not match the key, without key material in the message', async () => {
    const ecPem = pem(ec.privateKey, 'pkcs8');
    const body = ecPem.split('\n')[1] ?? '';
    await expectInvalidKey(importSigningKey(ecPem, { algorithm: 'RS256' }), body);
    const rsaJwk = jwk(rsa.privateKey);
    await expectInvalidKey(importSigningKey(rsaJwk, { algorithm: 'ES256' }), rsaJwk.d);
    await expectInvalidKey(importSigningKey({ ...rsaJwk, alg: 'PS256' }), rsaJwk.d);
    await expectInvalidKey(importSigningKey(pem(rsa.privateKey, 'pkcs1'), { algorithm: 'ES256' }));
    await expectInvalidKey(importSigningKey(pem(ec.privateKey, 'sec1'), { algorithm: 'RS256' }));
    await expectInvalidKey(importSigningKey(ecPem, { algorithm: 'HS256' as never }));
  });

  it('rejects keys it cannot use', async () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const ed25519 = generateKeyPairSync('ed25519');
    const smallRsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    await expectInvalidKey(importSigningKey(pem(p384.privateKey, 'pkcs8')));
    await expectInvalidKey(importSigningKey(pem(p384.privateKey, 'sec1')));
    await expectInvalidKey(importSigningKey(jwk(p384.privateKey)));
    await expectInvalidKey(importSigningKey(pem(ed25519.privateKey, 'pkcs8')));
    await expectInvalidKey(importSigningKey(jwk(ed25519.privateKey)));
    await expectInvalidKey(importSigningKey(pem(smallRsa.privateKey, 'pkcs8')));
    await expectInvalidKey(importSigningKey(pem(smallRsa.privateKey, 'pkcs1')));
    await expectInvalidKey(
      importSigningKey(createPublicKey(ec.privateKey).export({ format: 'pem', type: 'spki' }) as string),
    );
    const { d: _d, ...publicJwk } = jwk(ec.privateKey);
    await expectInvalidKey(importSigningKey(publicJwk));
    await expectInvalidKey(importSigningKey({ ...jwk(ec.privateKey), use: 'enc' }));
    await expectInvalidKey(importSigningKey({ kty: 'oct', k: 'c2VjcmV0' }));
    await expectInvalidKey(importSigningKey('not a pem at all'));
    await expectInvalidKey(importSigningKey('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----'));
    await expectInvalidKey(importSigningKey('-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----'));
    await expectInvalidKey(
      importSigningKey('-----BEGIN EC PRIVATE KEY-----\nMAA=\n-----END EC PRIVATE KEY-----'),
    );
    await expectInvalidKey(
      importSigningKey('-----BEGIN RSA PRIVATE KEY-----\nMAA=\n-----END RSA PRIVATE KEY-----'),
    );
    await expectInvalidKey(importSigningKey(42 as never));
    await expectInvalidKey(importSigningKey(jwk(ec.privateKey), { keyId: '' }));
  });

  it('explains that encrypted PEM keys must be decrypted first', async () => {
    const encrypted = ec.privateKey.export({
      format: 'pem',
      type: 'pkcs8',
      cipher: 'aes-256-cbc',
      passphrase: 'SECRET-passphrase',
    }) as string;
    const legacy = rsa.privateKey.export({
      format: 'pem',
      type: 'pkcs1',
      cipher: 'aes-256-cbc',
      passphrase: 'SECRET-passphrase',
    }) as string;
    for (const input of [encrypted, legacy]) {
      const error = await importSigningKey(input).catch((caught: unknown) => caught);
      expect(isOAuthClientError(error, 'invalid_key')).toBe(true);
      expect((error as Error).message).toMatch(/decrypt/);
    }
  });

  it('rejects CryptoKeys that are public, cannot sign or use another algorithm', async () => {
    const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ])) as CryptoKeyPair;
    await expectInvalidKey(importSigningKey(pair.publicKey));
    await expectInvalidKey(importSigningKey(pair.privateKey, { algorithm: 'RS256' }));
    const exported = await crypto.subtle.exportKey('pkcs8', pair.privateKey);
    const deriveOnly = await crypto.subtle.importKey(
      'pkcs8',
      exported,
      { name: 'ECDH', namedCurve: 'P-256' },
      false,
      ['deriveBits'],
    );
    await expectInvalidKey(importSigningKey(deriveOnly));
    const sha384 = (await crypto.subtle.generateKey(
      {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-384',
      },
      false,
      ['sign', 'verify'],
    )) as CryptoKeyPair;
    await expectInvalidKey(importSigningKey(sha384.privateKey));
    const pss = (await crypto.subtle.generateKey(
      { name: 'RSA-PSS', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
      false,
      ['sign', 'verify'],
    )) as CryptoKeyPair;
    await expectInvalidKey(importSigningKey(pss.privateKey));
  });

  it('puts alg first in the header and refuses a conflicting header alg or key', async () => {
    const key = await importSigningKey(jwk(ec.privateKey));
    const token = await signJwt({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty: 'EC' } }, {}, key.key, 'ES256');
    expect(Object.keys(decodePart(token.split('.')[0]))).toEqual(['alg', 'typ', 'jwk']);
    const conflicting = await signJwt({ alg: 'none' }, {}, key.key, 'ES256').catch(
      (caught: unknown) => caught,
    );
    expect(isOAuthClientError(conflicting, 'invalid_options')).toBe(true);
    await expectInvalidKey(signJwt({}, {}, key.key, 'RS256'));
    const rsaKey = await importSigningKey(jwk(rsa.privateKey));
    await expectInvalidKey(signJwt({}, {}, rsaKey.key, 'ES256'));
    const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
      'sign',
      'verify',
    ])) as CryptoKeyPair;
    await expectInvalidKey(signJwt({}, {}, pair.publicKey, 'ES256'));
  });
});

describe('decodeJwtPayload', () => {
  const encode = (value: unknown) => base64urlEncode(JSON.stringify(value));
  const header = encode({ alg: 'none' });

  it('returns the payload object without verifying', () => {
    expect(decodeJwtPayload(`${header}.${encode({ iss: 'x', n: 1 })}.sig`)).toEqual({ iss: 'x', n: 1 });
    expect(decodeJwtPayload(`${header}.${encode({ name: 'é ✓' })}.`)).toEqual({ name: 'é ✓' });
  });

  const invalid: Array<[string, unknown]> = [
    ['two parts', `${header}.${encode({})}`],
    ['four parts', `${header}.${encode({})}.a.b`],
    ['five parts (JWE)', 'a.b.c.d.e'],
    ['empty payload', `${header}..sig`],
    ['payload not base64url', `${header}.${encode({}).slice(0, -1)}+.sig`],
    ['payload not JSON', `${header}.${base64urlEncode('not json')}.sig`],
    ['payload is an array', `${header}.${encode([1])}.sig`],
    ['payload is null', `${header}.${encode(null)}.sig`],
    ['payload is a string', `${header}.${encode('text')}.sig`],
    ['payload is invalid UTF-8', `${header}.${base64urlEncode(new Uint8Array([0xff, 0xfe]))}.sig`],
    ['empty string', ''],
    ['not a string', 42],
    ['undefined', undefined],
  ];
  for (const [name, token] of invalid) {
    it(`returns undefined for ${name}`, () => {
      expect(decodeJwtPayload(token as string)).toBeUndefined();
    });
  }
});
