// A Node ES module project without `lib: dom` that checks every declaration file it reads.
import { webcrypto } from 'node:crypto';
import { createAxiosHttpClient, installOAuth } from '@mcp-oauth/axios';
import { generateDpopKey, OAuthSession, type PrivateKeyInput } from '@mcp-oauth/core';
import { createFetchHttpClient, withOAuth } from '@mcp-oauth/fetch';
import { createGotHttpClient, withOAuth as withGotOAuth } from '@mcp-oauth/got';
import { createKyHttpClient, withOAuth as withKyOAuth } from '@mcp-oauth/ky';
import {
  createConsoleLogger,
  createEnvironmentProxyFetch,
  createFileStores,
  createLoopbackAuthorizationHandler,
} from '@mcp-oauth/node';
import axios from 'axios';
import got from 'got';
import ky from 'ky';

const loopback = await createLoopbackAuthorizationHandler();
const pair = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
const privateKey: PrivateKeyInput = pair.privateKey; // Node's own CryptoKey
const proxiedFetch = createEnvironmentProxyFetch();
const session = new OAuthSession({
  serverUrl: 'https://mcp.example.com/mcp',
  httpClient: createFetchHttpClient(proxiedFetch),
  logger: createConsoleLogger({ level: 'debug', stream: process.stderr }),
  client: { clientName: 'consumer', redirectUris: [loopback.redirectUri] },
  clientKey: { privateKey },
  authorizationHandler: loopback.handler,
  stores: createFileStores({ directory: '/tmp/consumer' }),
});
const dpopKey = await generateDpopKey();
const curve: string | undefined = dpopKey.publicJwk.crv;

const authorizedFetch: typeof fetch = withOAuth(session, proxiedFetch);
const kyApi = withKyOAuth(
  ky,
  new OAuthSession({ serverUrl: session.serverUrl, httpClient: createKyHttpClient(ky) }),
);
const gotApi = withGotOAuth(
  got,
  new OAuthSession({ serverUrl: session.serverUrl, httpClient: createGotHttpClient(got) }),
);
const axiosInstance = axios.create();
installOAuth(
  axiosInstance,
  new OAuthSession({ serverUrl: session.serverUrl, httpClient: createAxiosHttpClient(axiosInstance) }),
);

export { authorizedFetch, curve, gotApi, kyApi };
