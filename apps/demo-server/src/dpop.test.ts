/**
 * DPoP end to end: the authorization server binds tokens to the client's key (`cnf.jkt`), and the
 * MCP server accepts a bound token only with a fresh proof of that key for this very request.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoServer, startDemoServer } from './start.js';
import {
  callMcp,
  createDpopKey,
  createDpopProof,
  type DpopKey,
  decodeJwtPayload,
  obtainTokens,
  type RegisteredClient,
  registerClient,
  stringField,
  tokenRequest,
} from './test-utils/oauth.js';

let demo: DemoServer;
let client: RegisteredClient;
let key: DpopKey;
let accessToken: string;
let refreshToken: string;

beforeAll(async () => {
  demo = await startDemoServer({ autoApprove: true });
  client = await registerClient(demo);
  key = await createDpopKey();
  const token = await obtainTokens(demo, client, { dpopKey: key });
  expect(token.status).toBe(200);
  expect(token.body.token_type).toBe('DPoP');
  accessToken = stringField(token.body, 'access_token');
  refreshToken = stringField(token.body, 'refresh_token');
});

afterAll(async () => {
  await demo.close();
});

async function dpopHeaders(
  overrides: {
    htm?: string;
    htu?: string;
    accessToken?: string;
    iat?: number;
    jti?: string;
    key?: DpopKey;
  } = {},
): Promise<Record<string, string>> {
  const proof = await createDpopProof(overrides.key ?? key, {
    htm: overrides.htm ?? 'POST',
    htu: overrides.htu ?? demo.mcpUrl,
    accessToken: overrides.accessToken ?? accessToken,
    ...(overrides.iat === undefined ? {} : { iat: overrides.iat }),
    ...(overrides.jti === undefined ? {} : { jti: overrides.jti }),
  });
  return { authorization: `DPoP ${accessToken}`, dpop: proof };
}

describe('DPoP', () => {
  it('advertises ES256 in both metadata documents', async () => {
    const metadata = (await (await fetch(demo.authorizationServerMetadataUrl)).json()) as Record<
      string,
      unknown
    >;
    expect(metadata.dpop_signing_alg_values_supported).toEqual(['ES256']);
    const resource = (await (await fetch(demo.resourceMetadataUrl)).json()) as Record<string, unknown>;
    expect(resource).toMatchObject({
      dpop_signing_alg_values_supported: ['ES256'],
      dpop_bound_access_tokens_required: false,
    });
  });

  it('binds the access token to the key', () => {
    expect(decodeJwtPayload(accessToken).cnf).toEqual({ jkt: key.thumbprint });
  });

  it('accepts the bound token with a proof for this request', async () => {
    const response = await callMcp(demo, { method: 'tools/list' }, await dpopHeaders());
    expect(response.status).toBe(200);
  });

  it('adds a DPoP challenge after the Bearer one', async () => {
    const response = await callMcp(demo, { method: 'tools/list' });
    expect(response.status).toBe(401);
    expect(response.wwwAuthenticate).toMatch(
      /^Bearer resource_metadata="[^"]+", scope="mcp:tools", DPoP algs="ES256", /,
    );
  });

  it.each([
    ['sent as a Bearer token', async () => ({ authorization: `Bearer ${accessToken}` }), 'invalid_token'],
    ['without a proof', async () => ({ authorization: `DPoP ${accessToken}` }), 'invalid_dpop_proof'],
    ['with a proof for another method', () => dpopHeaders({ htm: 'GET' }), 'invalid_dpop_proof'],
    ['with a proof for another URL', () => dpopHeaders({ htu: `${demo.issuer}/mcp` }), 'invalid_dpop_proof'],
    ['with a proof for another token', () => dpopHeaders({ accessToken: 'another' }), 'invalid_dpop_proof'],
    [
      'with a proof that is too old',
      () => dpopHeaders({ iat: Math.floor(Date.now() / 1000) - 600 }),
      'invalid_dpop_proof',
    ],
    [
      'with a proof signed by another key',
      async () => dpopHeaders({ key: await createDpopKey() }),
      'invalid_dpop_proof',
    ],
  ])('rejects the bound token %s', async (_name, headers, error) => {
    const response = await callMcp(demo, { method: 'tools/list' }, await headers());
    expect(response.status).toBe(401);
    expect(response.wwwAuthenticate).toContain(`DPoP error="${error}"`);
  });

  it('accepts a proof once only', async () => {
    const headers = await dpopHeaders({ jti: randomUUID() });
    expect((await callMcp(demo, { method: 'tools/list' }, headers)).status).toBe(200);
    const replay = await callMcp(demo, { method: 'tools/list' }, headers);
    expect(replay.status).toBe(401);
    expect(replay.body.error_description).toBe('the DPoP proof has been used before');
  });

  it('rejects an unbound token sent with the DPoP scheme', async () => {
    const unbound = await obtainTokens(demo, client);
    const token = stringField(unbound.body, 'access_token');
    const proof = await createDpopProof(key, { htm: 'POST', htu: demo.mcpUrl, accessToken: token });
    const response = await callMcp(
      demo,
      { method: 'tools/list' },
      { authorization: `DPoP ${token}`, dpop: proof },
    );
    expect(response.status).toBe(401);
    expect(response.wwwAuthenticate).toContain('error="invalid_token"');
    // The same token as a Bearer token is fine.
    expect((await callMcp(demo, { method: 'tools/list' }, { authorization: `Bearer ${token}` })).status).toBe(
      200,
    );
  });

  it('refreshes only with the same key, and the new token stays bound', async () => {
    const refresh = (proofKey: DpopKey) =>
      createDpopProof(proofKey, { htm: 'POST', htu: `${demo.issuer}/token` }).then((proof) =>
        tokenRequest(
          demo,
          { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: client.client_id },
          { dpop: proof },
        ),
      );
    const wrongKey = await refresh(await createDpopKey());
    expect(wrongKey.status).toBe(400);
    const refreshed = await refresh(key);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.token_type).toBe('DPoP');
    expect(decodeJwtPayload(stringField(refreshed.body, 'access_token')).cnf).toEqual({
      jkt: key.thumbprint,
    });
  });
});

describe('DPoP off', () => {
  it('advertises no DPoP, issues Bearer tokens even to a client that sends a proof', async () => {
    const plain = await startDemoServer({ autoApprove: true, dpop: false });
    try {
      const metadata = (await (await fetch(plain.authorizationServerMetadataUrl)).json()) as Record<
        string,
        unknown
      >;
      expect(metadata).not.toHaveProperty('dpop_signing_alg_values_supported');
      const plainClient = await registerClient(plain);
      const token = await obtainTokens(plain, plainClient, { dpopKey: await createDpopKey() });
      expect(token.status).toBe(200);
      expect(token.body.token_type).toBe('Bearer');
      expect(decodeJwtPayload(stringField(token.body, 'access_token'))).not.toHaveProperty('cnf');
      const response = await callMcp(plain, { method: 'tools/list' });
      expect(response.wwwAuthenticate).not.toContain('DPoP');
    } finally {
      await plain.close();
    }
  });
});
