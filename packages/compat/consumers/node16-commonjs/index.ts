// A CommonJS project (`module: node16`) that checks every declaration file it reads. The
// adapters are required; ky and got, ESM only, come in through import().
import { createAxiosHttpClient, withOAuth as withAxiosOAuth } from '@mcp-oauth/axios';
import { OAuthSession } from '@mcp-oauth/core';
import * as adapter from '@mcp-oauth/core/adapter';
import * as dpop from '@mcp-oauth/core/dpop';
import * as enterprise from '@mcp-oauth/core/enterprise';
import * as jwt from '@mcp-oauth/core/jwt';
import * as protocol from '@mcp-oauth/core/protocol';
import { createFetchHttpClient, withOAuth } from '@mcp-oauth/fetch';
import { createGotHttpClient, withOAuth as withGotOAuth } from '@mcp-oauth/got';
import { createKyHttpClient, withOAuth as withKyOAuth } from '@mcp-oauth/ky';
import { createLoopbackAuthorizationHandler } from '@mcp-oauth/node';
import { createRedisStores } from '@mcp-oauth/redis';
import axios from 'axios';

export const entries = [adapter, dpop, enterprise, jwt, protocol, createRedisStores];

export async function main(): Promise<unknown[]> {
  const { default: ky } = await import('ky');
  const { default: got } = await import('got');
  const loopback = await createLoopbackAuthorizationHandler();
  const options = {
    serverUrl: 'https://mcp.example.com/mcp',
    client: { clientName: 'consumer', redirectUris: [loopback.redirectUri] },
    authorizationHandler: loopback.handler,
  };
  const kyApi = withKyOAuth(ky, new OAuthSession({ ...options, httpClient: createKyHttpClient() }));
  const gotApi = withGotOAuth(got, new OAuthSession({ ...options, httpClient: createGotHttpClient(got) }));
  const instance = axios.create();
  withAxiosOAuth(instance, new OAuthSession({ ...options, httpClient: createAxiosHttpClient(instance) }));
  const authorizedFetch = withOAuth(
    fetch,
    new OAuthSession({ ...options, httpClient: createFetchHttpClient() }),
  );
  return [
    await kyApi.post(options.serverUrl, { json: {} }).json(),
    await gotApi.post(options.serverUrl, { json: {} }).json(),
    (await instance.post(options.serverUrl, {})).data,
    await (await authorizedFetch(options.serverUrl, { method: 'POST' })).json(),
  ];
}
