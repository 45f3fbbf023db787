import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import {
  type AdapterHarness,
  type ContractBody,
  type ContractRequest,
  type ContractResponse,
  describeAdapterContract,
} from '@mcp-oauth/testkit';
import latest, { type AxiosRequestConfig, type AxiosStatic } from 'axios';
import oldest from 'axios-1.0.0';
import { createAxiosHttpClient, withOAuth } from './index.js';

/** The request config for one contract body, as an application would write it. */
async function bodyConfig(axios: AxiosStatic, body: ContractBody): Promise<AxiosRequestConfig> {
  const headers = body.contentType === undefined ? {} : { 'content-type': body.contentType };
  if (body.kind === 'stream') {
    return { headers, data: Readable.fromWeb(body.value as NodeReadableStream<Uint8Array>) };
  }
  if (body.kind === 'formdata' && axios.VERSION === '1.0.0') {
    // axios 1.0.0 cannot send a spec FormData in Node ("Data after transformation must be a
    // string, an ArrayBuffer, a Buffer, or a Stream"; support came in 1.3): its users encode the
    // form themselves, which is what this does.
    const encoded = new Response(body.value as FormData);
    return {
      headers: { 'content-type': encoded.headers.get('content-type') ?? '' },
      data: Buffer.from(await encoded.arrayBuffer()),
    };
  }
  return { headers, data: body.value };
}

/**
 * axios's `fetch` adapter labels a `FormData` body `application/x-www-form-urlencoded` in Node
 * (the default it sets for a POST) unless told it is multipart; then fetch adds the boundary.
 */
function multipart(body: ContractBody | undefined, adapter: string | undefined): Record<string, string> {
  return body?.kind === 'formdata' && adapter === 'fetch' ? { 'content-type': 'multipart/form-data' } : {};
}

/**
 * axios 1.0.0 drops the `?` of a query written in the URL (axios#4999, fixed in 1.1.0); its users
 * pass the query as `params`, and so does this harness. The adapter authorizes the URL with params.
 */
function target(axios: AxiosStatic, href: string): AxiosRequestConfig {
  const url = new URL(href);
  if (axios.VERSION !== '1.0.0' || url.search === '') return { url: href };
  return { url: `${url.origin}${url.pathname}`, params: url.searchParams };
}

/** `adapter`: axios's default transport (Node's `http`), or its `fetch` adapter (axios ≥ 1.7). */
function harness(axios: AxiosStatic, adapter?: 'fetch'): AdapterHarness {
  const transport = adapter === undefined ? {} : { adapter };
  return {
    name: `axios ${axios.VERSION}${adapter === undefined ? '' : ` (${adapter} adapter)`}`,
    replayableBodies: ['json', 'text', 'urlsearchparams', 'formdata', 'bytes'],
    throwsHttpErrors: true,
    createClient(session, options = {}) {
      const instance = withOAuth(
        axios.create({ headers: { ...options.defaultHeaders }, ...transport }),
        session,
      );
      return {
        async request(request: ContractRequest): Promise<ContractResponse> {
          const body = request.body === undefined ? {} : await bodyConfig(axios, request.body);
          try {
            const response = await instance.request<string>({
              ...body,
              ...target(axios, request.url),
              method: request.method,
              headers: { ...request.headers, ...body.headers, ...multipart(request.body, adapter) },
              responseType: 'text',
              ...(request.signal === undefined ? {} : { signal: request.signal }),
            });
            return { status: response.status, body: response.data };
          } catch (error) {
            if (axios.isAxiosError(error) && error.response !== undefined) {
              return { status: error.response.status, body: String(error.response.data), raised: error };
            }
            return { error };
          }
        },
      };
    },
    createHttpClient(options = {}) {
      return createAxiosHttpClient(axios.create({ headers: { ...options.defaultHeaders }, ...transport }));
    },
  };
}

describeAdapterContract(harness(latest));
describeAdapterContract(harness(latest, 'fetch'));
describeAdapterContract(harness(oldest as unknown as AxiosStatic));
