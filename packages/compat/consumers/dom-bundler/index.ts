// A browser project (DOM types, a bundler, no Node types): core's WebCrypto types are the DOM's own.
import { OAuthSession } from '@mcp-oauth/core';
import { generateDpopKey } from '@mcp-oauth/core/dpop';
import { type PrivateKeyInput, privateKeyJwt } from '@mcp-oauth/core/jwt';
import { createFetchHttpClient, withOAuth } from '@mcp-oauth/fetch';
import { createKyHttpClient, withOAuth as withKyOAuth } from '@mcp-oauth/ky';
import ky from 'ky';

const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
const privateKey: PrivateKeyInput = pair.privateKey;
const session = new OAuthSession({
  serverUrl: 'https://mcp.example.com/mcp',
  httpClient: createFetchHttpClient(),
  clientKey: privateKeyJwt({ privateKey }),
});
const dpopKey = await generateDpopKey();
// The key core hands back is the DOM's CryptoKey, usable with crypto.subtle as it is.
const signature = await crypto.subtle.sign(
  { name: 'ECDSA', hash: 'SHA-256' },
  dpopKey.privateKey,
  new Uint8Array(1),
);
const imported = await crypto.subtle.importKey(
  'jwk',
  dpopKey.publicJwk,
  { name: 'ECDSA', namedCurve: 'P-256' },
  true,
  ['verify'],
);

const authorizedFetch = withOAuth(fetch, session);
const kyApi = withKyOAuth(
  ky,
  new OAuthSession({ serverUrl: session.serverUrl, httpClient: createKyHttpClient(ky) }),
);

export { authorizedFetch, imported, kyApi, signature };
