import { generateKeyPairSync, type KeyObject, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  applyClientAuthentication,
  CLIENT_ASSERTION_TYPE_JWT_BEARER,
  type ClientAuthentication,
  formUrlEncodeValue,
} from './client-auth.js';
import { base64Decode, utf8Decode } from './encoding.js';
import { isOAuthClientError } from './errors.js';
import { jwtSigner } from './jwt.js';
import { importSigningKey, type SigningAlgorithm } from './signing-key.js';

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

const context = {
  issuer: 'https://as.example.com/tenant',
  tokenEndpoint: 'https://as.example.com/tenant/oauth/token',
  now: 1_700_000_000_500,
};

async function apply(auth: ClientAuthentication) {
  const target = {
    parameters: { grant_type: 'client_credentials' } as Record<string, string>,
    headers: {} as Record<string, string>,
  };
  await applyClientAuthentication(auth, target, context);
  return target;
}

/** Decodes an HTTP Basic header the way RFC 6749 §2.3.1 says a server does. */
function decodeBasic(header: string | undefined): [string, string] {
  expect(header).toMatch(/^Basic [A-Za-z0-9+/]+=*$/);
  const decoded = utf8Decode(base64Decode((header ?? '').slice('Basic '.length)));
  const colon = decoded.indexOf(':');
  const formDecode = (value: string) => decodeURIComponent(value.replace(/\+/g, ' '));
  return [formDecode(decoded.slice(0, colon)), formDecode(decoded.slice(colon + 1))];
}

function parseJws(token: string) {
  const [header, payload, signature] = token.split('.');
  return {
    header: JSON.parse(utf8Decode(base64Decode(header ?? ''))) as Record<string, unknown>,
    payload: JSON.parse(utf8Decode(base64Decode(payload ?? ''))) as Record<string, unknown>,
    signingInput: Buffer.from(`${header}.${payload}`),
    signature: Buffer.from(signature ?? '', 'base64url'),
  };
}

function verifyJws(token: string, publicKey: KeyObject, algorithm: SigningAlgorithm): boolean {
  const { signingInput, signature } = parseJws(token);
  return algorithm === 'ES256'
    ? verify('sha256', signingInput, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)
    : verify('sha256', signingInput, publicKey, signature);
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(isOAuthClientError(error)).toBe(true);
  expect((error as { code: string }).code).toBe(code);
  return error as Error;
}

describe('applyClientAuthentication', () => {
  it('none: sends only client_id', async () => {
    expect(await apply({ clientId: 'public-client', method: 'none' })).toEqual({
      parameters: { grant_type: 'client_credentials', client_id: 'public-client' },
      headers: {},
    });
  });

  it('client_secret_post: sends client_id and client_secret in the body', async () => {
    expect(await apply({ clientId: 'c1', method: 'client_secret_post', clientSecret: 's e:c%' })).toEqual({
      parameters: { grant_type: 'client_credentials', client_id: 'c1', client_secret: 's e:c%' },
      headers: {},
    });
  });

  it('client_secret_basic: form-encodes id and secret, and sends no client_id parameter', async () => {
    const target = await apply({
      clientId: 'a b:c%',
      method: 'client_secret_basic',
      clientSecret: 'p+w d:%/é&=',
    });
    expect(target.parameters).toEqual({ grant_type: 'client_credentials' });
    expect(Object.keys(target.headers)).toEqual(['authorization']);
    const raw = utf8Decode(base64Decode(target.headers.authorization?.slice(6) ?? ''));
    expect(raw).toBe('a+b%3Ac%25:p%2Bw+d%3A%25%2F%C3%A9%26%3D');
    expect(decodeBasic(target.headers.authorization)).toEqual(['a b:c%', 'p+w d:%/é&=']);
  });

  it('client_secret_basic: plain credentials are unchanged', async () => {
    const target = await apply({ clientId: 'client', method: 'client_secret_basic', clientSecret: 'secret' });
    expect(target.headers.authorization).toBe(`Basic ${btoa('client:secret')}`);
  });

  it('formUrlEncodeValue encodes like an HTML form', () => {
    expect(formUrlEncodeValue('a b+c')).toBe('a+b%2Bc');
    expect(formUrlEncodeValue("-_.*~!'()")).toBe('-_.*%7E%21%27%28%29');
    expect(formUrlEncodeValue('')).toBe('');
  });

  for (const method of ['client_secret_basic', 'client_secret_post'] as const) {
    it(`${method}: a missing or empty secret is invalid_options`, async () => {
      await rejectsWith(apply({ clientId: 'c', method }), 'invalid_options');
      await rejectsWith(apply({ clientId: 'c', method, clientSecret: '' }), 'invalid_options');
    });
  }

  it('an empty client id or an unknown method is invalid_options', async () => {
    await rejectsWith(apply({ clientId: '', method: 'none' }), 'invalid_options');
    await rejectsWith(apply({ clientId: 'c', method: 'tls_client_auth' as never }), 'invalid_options');
  });

  describe('private_key_jwt', () => {
    const inputs: Array<{
      name: string;
      key: () => Promise<unknown> | unknown;
      publicKey: KeyObject;
      alg: SigningAlgorithm;
    }> = [
      {
        name: 'ES256 PEM',
        key: () => ec.privateKey.export({ format: 'pem', type: 'pkcs8' }),
        publicKey: ec.publicKey,
        alg: 'ES256',
      },
      {
        name: 'RS256 JWK',
        key: () => rsa.privateKey.export({ format: 'jwk' }),
        publicKey: rsa.publicKey,
        alg: 'RS256',
      },
      {
        name: 'ES256 CryptoKey',
        key: () =>
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
        name: 'RS256 PEM',
        key: () => rsa.privateKey.export({ format: 'pem', type: 'pkcs1' }),
        publicKey: rsa.publicKey,
        alg: 'RS256',
      },
    ];

    for (const { name, key, publicKey, alg } of inputs) {
      it(`signs a verifiable RFC 7523 client assertion (${name})`, async () => {
        const signingKey = await importSigningKey((await key()) as never, { keyId: 'key-1' });
        const target = await apply({
          clientId: 'https://client.example/meta.json',
          method: 'private_key_jwt',
          signer: jwtSigner(signingKey),
        });
        expect(target.headers).toEqual({});
        expect(Object.keys(target.parameters).sort()).toEqual(
          ['client_assertion', 'client_assertion_type', 'client_id', 'grant_type'].sort(),
        );
        expect(target.parameters.client_id).toBe('https://client.example/meta.json');
        expect(target.parameters.client_assertion_type).toBe(CLIENT_ASSERTION_TYPE_JWT_BEARER);
        const assertion = target.parameters.client_assertion ?? '';
        expect(verifyJws(assertion, publicKey, alg)).toBe(true);
        const { header, payload } = parseJws(assertion);
        expect(header).toEqual({ alg, typ: 'JWT', kid: 'key-1' });
        expect(payload).toEqual({
          iss: 'https://client.example/meta.json',
          sub: 'https://client.example/meta.json',
          aud: context.issuer,
          jti: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
          iat: 1_700_000_000,
          exp: 1_700_000_060,
        });
      });
    }

    it('uses a new jti for every assertion and omits kid when the key has none', async () => {
      const signingKey = await importSigningKey(ec.privateKey.export({ format: 'jwk' }));
      const auth: ClientAuthentication = {
        clientId: 'c',
        method: 'private_key_jwt',
        signer: jwtSigner(signingKey),
      };
      const ids = new Set<unknown>();
      for (let index = 0; index < 5; index++) {
        const { header, payload } = parseJws((await apply(auth)).parameters.client_assertion ?? '');
        expect(header).toEqual({ alg: 'ES256', typ: 'JWT' });
        ids.add(payload.jti);
      }
      expect(ids.size).toBe(5);
    });

    it('honours the lifetime and the token_endpoint audience options', async () => {
      const signingKey = await importSigningKey(ec.privateKey.export({ format: 'jwk' }));
      const target = await apply({
        clientId: 'c',
        method: 'private_key_jwt',
        signer: jwtSigner(signingKey),
        assertionLifetimeSeconds: 300,
        assertionAudience: 'token_endpoint',
      });
      const { payload } = parseJws(target.parameters.client_assertion ?? '');
      expect(payload.aud).toBe(context.tokenEndpoint);
      expect(payload.exp).toBe(1_700_000_300);
    });

    it('a missing key or a bad option is invalid_options', async () => {
      await rejectsWith(apply({ clientId: 'c', method: 'private_key_jwt' }), 'invalid_options');
      const signingKey = await importSigningKey(ec.privateKey.export({ format: 'jwk' }));
      for (const lifetime of [0, -1, 1.5, 3601, Number.NaN]) {
        await rejectsWith(
          apply({
            clientId: 'c',
            method: 'private_key_jwt',
            signer: jwtSigner(signingKey),
            assertionLifetimeSeconds: lifetime,
          }),
          'invalid_options',
        );
      }
      await rejectsWith(
        apply({
          clientId: 'c',
          method: 'private_key_jwt',
          signer: jwtSigner(signingKey),
          assertionAudience: 'resource' as never,
        }),
        'invalid_options',
      );
    });
  });
});
