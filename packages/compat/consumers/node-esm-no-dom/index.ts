// A Node ES module project without `lib: dom` that checks every declaration file it reads, every
// entry point of core included.
import { webcrypto } from 'node:crypto';
import { createAxiosHttpClient, withOAuth as withAxiosOAuth } from '@mcp-oauth/axios';
import { OAuthSession } from '@mcp-oauth/core';
import * as adapter from '@mcp-oauth/core/adapter';
import { dpop, generateDpopKey } from '@mcp-oauth/core/dpop';
import * as enterprise from '@mcp-oauth/core/enterprise';
import { type PrivateKeyInput, privateKeyJwt } from '@mcp-oauth/core/jwt';
import * as protocol from '@mcp-oauth/core/protocol';
import { createFetchHttpClient, withOAuth } from '@mcp-oauth/fetch';
import { createGotHttpClient, withOAuth as withGotOAuth } from '@mcp-oauth/got';
import { createKyHttpClient, withOAuth as withKyOAuth } from '@mcp-oauth/ky';
import {
  createConsoleLogger,
  createEnvironmentProxyFetch,
  createFileStores,
  createLoopbackAuthorizationHandler,
} from '@mcp-oauth/node';
import { createRedisStores } from '@mcp-oauth/redis';
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
  clientKey: privateKeyJwt({ privateKey }),
  dpop: dpop(),
  authorizationHandler: loopback.handler,
  stores: createFileStores({ directory: '/tmp/consumer' }),
});
const dpopKey = await generateDpopKey();
const curve: string | undefined = dpopKey.publicJwk.crv;

const authorizedFetch: typeof fetch = withOAuth(proxiedFetch, session);
const kyApi = withKyOAuth(
  ky,
  new OAuthSession({ serverUrl: session.serverUrl, httpClient: createKyHttpClient(ky) }),
);
const gotApi = withGotOAuth(
  got,
  new OAuthSession({ serverUrl: session.serverUrl, httpClient: createGotHttpClient(got) }),
);
const axiosInstance = axios.create();
withAxiosOAuth(
  axiosInstance,
  new OAuthSession({ serverUrl: session.serverUrl, httpClient: createAxiosHttpClient(axiosInstance) }),
);

export const redisStores = createRedisStores;
export { adapter, authorizedFetch, curve, enterprise, gotApi, kyApi, protocol };
