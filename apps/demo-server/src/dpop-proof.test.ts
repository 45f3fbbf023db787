import { createHash } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { DpopProofVerifier } from './dpop-proof.js';
import { createDpopKey, type DpopKey } from './test-utils/oauth.js';

const NOW = 1_800_000_000;
const URL_ = 'http://127.0.0.1:2000/mcp';
const TOKEN = 'access-token-value';

let key: DpopKey;
let other: DpopKey;

beforeAll(async () => {
  key = await createDpopKey();
  other = await createDpopKey();
});

function verifier(): DpopProofVerifier {
  return new DpopProofVerifier({ algorithms: ['ES256'], now: () => NOW });
}

interface ProofOptions {
  readonly payload?: Record<string, unknown>;
  readonly header?: Record<string, unknown>;
  readonly signer?: DpopKey;
}

let counter = 0;

async function proof(options: ProofOptions = {}): Promise<string> {
  const signer = options.signer ?? key;
  return new SignJWT({
    jti: `jti-${counter++}`,
    htm: 'POST',
    htu: URL_,
    iat: NOW,
    ath: createHash('sha256').update(TOKEN).digest('base64url'),
    ...options.payload,
  })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: signer.publicJwk, ...options.header })
    .sign(signer.privateKey);
}

function input(proofValue: string | undefined) {
  return { proof: proofValue, method: 'POST', url: URL_, accessToken: TOKEN, jkt: key.thumbprint };
}

describe('DpopProofVerifier', () => {
  it('accepts a fresh proof of the bound key for this request', async () => {
    expect(await verifier().verify(input(await proof()))).toEqual({ valid: true });
  });

  it('compares htu without query and fragment, after normalisation', async () => {
    const check = await verifier().verify({
      ...input(await proof({ payload: { htu: 'HTTP://127.0.0.1:2000/mcp?x=1#f' } })),
      url: `${URL_}?y=2`,
    });
    expect(check).toEqual({ valid: true });
  });

  it('accepts an iat within the tolerance either side', async () => {
    const v = verifier();
    expect(await v.verify(input(await proof({ payload: { iat: NOW + 5 } })))).toEqual({ valid: true });
    expect(await v.verify(input(await proof({ payload: { iat: NOW - 60 } })))).toEqual({ valid: true });
  });

  it.each<[string, () => Promise<string | undefined>, string]>([
    ['no proof', async () => undefined, 'a DPoP proof is required with this access token'],
    ['two proofs', async () => `${await proof()}, ${await proof()}`, 'exactly one DPoP proof is allowed'],
    [
      'a proof typed JWT',
      () => proof({ header: { typ: 'JWT' } }),
      'the DPoP proof is not a valid signed JWT',
    ],
    ['a proof without jwk', () => proof({ header: { jwk: undefined } }), 'the DPoP proof has no "jwk"'],
    ['a proof without jti', () => proof({ payload: { jti: undefined } }), 'the DPoP proof "jti" is missing'],
    [
      'a proof for GET',
      () => proof({ payload: { htm: 'GET' } }),
      'the DPoP proof "htm" does not match the request method',
    ],
    [
      'a proof for another path',
      () => proof({ payload: { htu: 'http://127.0.0.1:2000/other' } }),
      'the DPoP proof "htu" does not match the request URL',
    ],
    [
      'a proof for another origin',
      () => proof({ payload: { htu: 'http://localhost:2000/mcp' } }),
      'the DPoP proof "htu" does not match the request URL',
    ],
    [
      'a proof from the future',
      () => proof({ payload: { iat: NOW + 30 } }),
      'the DPoP proof "iat" is not recent',
    ],
    ['an old proof', () => proof({ payload: { iat: NOW - 61 } }), 'the DPoP proof "iat" is not recent'],
    [
      'a proof for another token',
      () => proof({ payload: { ath: createHash('sha256').update('other').digest('base64url') } }),
      'the DPoP proof "ath" does not match the access token',
    ],
    [
      'a proof without ath',
      () => proof({ payload: { ath: undefined } }),
      'the DPoP proof "ath" does not match the access token',
    ],
    [
      'a proof by another key',
      () => proof({ signer: other }),
      'the DPoP proof key is not the key the access token is bound to',
    ],
  ])('rejects %s', async (_name, make, description) => {
    expect(await verifier().verify(input(await make()))).toEqual({ valid: false, description });
  });

  it('rejects a header jwk with private key material', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const privateJwk = await exportJWK(privateKey);
    const check = await verifier().verify(input(await proof({ header: { jwk: privateJwk } })));
    expect(check).toEqual({ valid: false, description: 'the DPoP proof "jwk" must be a public key' });
  });

  it('rejects a replayed proof, but only once it was accepted', async () => {
    const v = verifier();
    const wrong = await proof({ payload: { jti: 'once', htm: 'GET' } });
    expect((await v.verify(input(wrong))).valid).toBe(false);
    const right = await proof({ payload: { jti: 'once' } });
    expect(await v.verify(input(right))).toEqual({ valid: true });
    expect(await v.verify(input(right))).toEqual({
      valid: false,
      description: 'the DPoP proof has been used before',
    });
  });

  it('forgets a jti once its proof would be too old anyway', async () => {
    let now = NOW;
    const v = new DpopProofVerifier({ algorithms: ['ES256'], now: () => now });
    const first = await proof({ payload: { jti: 'later' } });
    expect((await v.verify(input(first))).valid).toBe(true);
    now = NOW + 120;
    const fresh = await proof({ payload: { jti: 'later', iat: now } });
    expect((await v.verify(input(fresh))).valid).toBe(true);
  });
});
