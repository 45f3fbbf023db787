/**
 * The four HTTP libraries, each two ways: bare (the `Authorization` header set by hand) and through
 * its mcp-oauth adapter. Both ways use the same instance configuration and send the same request —
 * a JSON-RPC `tools/call` POST — and read the whole response as text; a non-2xx status fails.
 */
import { createAxiosHttpClient, withOAuth as withOAuthAxios } from '@mcp-oauth/axios';
import type { OAuthHttpClient, OAuthSession } from '@mcp-oauth/core';
import { createFetchHttpClient, withOAuth as withOAuthFetch } from '@mcp-oauth/fetch';
import { createGotHttpClient, withOAuth as withOAuthGot } from '@mcp-oauth/got';
import { createKyHttpClient, withOAuth as withOAuthKy } from '@mcp-oauth/ky';
import axios from 'axios';
import got from 'got';
import ky from 'ky';

export const LIBRARY_NAMES = ['fetch', 'ky', 'axios', 'got'] as const;
export type LibraryName = (typeof LIBRARY_NAMES)[number];

/** Sends one request; rejects when it fails or the status is not 2xx. */
export type Send = () => Promise<void>;

export interface Library {
  readonly name: LibraryName;
  /** The adapter's `OAuthHttpClient`, for the session's own requests. */
  httpClient(): OAuthHttpClient;
  /** The library alone, with `authorization: Bearer <token>` set by hand. */
  bare(url: string, token: string): Send;
  /** The library through its mcp-oauth adapter. */
  authorized(session: OAuthSession, url: string): Send;
}

export const REQUEST_BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'echo', arguments: { text: 'hello' } },
});
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

const fetchLibrary: Library = {
  name: 'fetch',
  httpClient: () => createFetchHttpClient(),
  bare(url, token) {
    const headers = { ...JSON_HEADERS, authorization: `Bearer ${token}` };
    return () => fetchText(fetch, url, headers);
  },
  authorized(session, url) {
    const authorizedFetch = withOAuthFetch(fetch, session);
    return () => fetchText(authorizedFetch, url, JSON_HEADERS);
  },
};

async function fetchText(fetchImpl: typeof fetch, url: string, headers: Record<string, string>) {
  const response = await fetchImpl(url, { method: 'POST', headers, body: REQUEST_BODY });
  await response.text();
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
}

const kyLibrary: Library = {
  name: 'ky',
  httpClient: () => createKyHttpClient(ky),
  bare(url, token) {
    const instance = ky.create({});
    const headers = { ...JSON_HEADERS, authorization: `Bearer ${token}` };
    return async () => {
      await instance.post(url, { headers, body: REQUEST_BODY }).text();
    };
  },
  authorized(session, url) {
    const instance = withOAuthKy(ky.create({}), session);
    return async () => {
      await instance.post(url, { headers: JSON_HEADERS, body: REQUEST_BODY }).text();
    };
  },
};

const axiosLibrary: Library = {
  name: 'axios',
  httpClient: () => createAxiosHttpClient(axios.create()),
  bare(url, token) {
    const instance = axios.create();
    const headers = { ...JSON_HEADERS, authorization: `Bearer ${token}` };
    return async () => {
      await instance.post(url, REQUEST_BODY, { headers, responseType: 'text' });
    };
  },
  authorized(session, url) {
    const instance = withOAuthAxios(axios.create(), session);
    return async () => {
      await instance.post(url, REQUEST_BODY, { headers: JSON_HEADERS, responseType: 'text' });
    };
  },
};

const gotLibrary: Library = {
  name: 'got',
  httpClient: () => createGotHttpClient(got),
  bare(url, token) {
    const instance = got.extend({});
    const headers = { ...JSON_HEADERS, authorization: `Bearer ${token}` };
    return async () => {
      await instance.post(url, { headers, body: REQUEST_BODY }).text();
    };
  },
  authorized(session, url) {
    const instance = withOAuthGot(got.extend({}), session);
    return async () => {
      await instance.post(url, { headers: JSON_HEADERS, body: REQUEST_BODY }).text();
    };
  },
};

export const LIBRARIES: Readonly<Record<LibraryName, Library>> = {
  fetch: fetchLibrary,
  ky: kyLibrary,
  axios: axiosLibrary,
  got: gotLibrary,
};
