/**
 * Client ID Metadata Documents: a client whose `client_id` is an https URL serving its metadata
 * needs no registration. The document is served here by the injected `fetch`.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { followAuthorization } from './headless.js';
import { type DemoServer, startDemoServer } from './start.js';
import {
  authorizationUrl,
  CALLBACK,
  callMcp,
  createPkce,
  stringField,
  tokenRequest,
} from './test-utils/oauth.js';

const CLIENT_ID = 'https://client.example/oauth/metadata.json';
const fetched: string[] = [];

let demo: DemoServer;

beforeAll(async () => {
  demo = await startDemoServer({
    autoApprove: true,
    fetch: async (input) => {
      const url = input instanceof Request ? input.url : String(input);
      fetched.push(url);
      if (url !== CLIENT_ID) return new Response('not found', { status: 404 });
      return Response.json({
        client_id: CLIENT_ID,
        client_name: 'Metadata Document Client',
        redirect_uris: [CALLBACK],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      });
    },
  });
});

afterAll(async () => {
  await demo.close();
});

it('advertises client_id_metadata_document_supported', async () => {
  const metadata = (await (await fetch(demo.authorizationServerMetadataUrl)).json()) as Record<
    string,
    unknown
  >;
  expect(metadata.client_id_metadata_document_supported).toBe(true);
});

it('authorizes a client known only by its metadata document URL', async () => {
  const pkce = createPkce();
  const state = randomBytes(8).toString('hex');
  const callback = new URL(
    await followAuthorization(
      authorizationUrl(demo, { clientId: CLIENT_ID, pkce, state, resource: demo.mcpUrl }),
    ),
  );
  expect(callback.searchParams.get('state')).toBe(state);
  expect(callback.searchParams.get('iss')).toBe(demo.issuer);
  const token = await tokenRequest(demo, {
    grant_type: 'authorization_code',
    code: callback.searchParams.get('code') ?? '',
    redirect_uri: CALLBACK,
    client_id: CLIENT_ID,
    code_verifier: pkce.verifier,
    resource: demo.mcpUrl,
  });
  expect(token.status).toBe(200);
  const call = await callMcp(
    demo,
    { method: 'tools/list' },
    { authorization: `Bearer ${stringField(token.body, 'access_token')}` },
  );
  expect(call.status).toBe(200);
  expect(fetched).toContain(CLIENT_ID);
  expect(demo.stats().registration).toBe(0);
});
