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
import { createAxiosHttpClient, installOAuth } from './index.js';

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
 * axios 1.0.0 drops the `?` of a query written in the URL (axios#4999, fixed in 1.1.0); its users
 * pass the query as `params`, and so does this harness. The adapter authorizes the URL with params.
 */
function target(axios: AxiosStatic, href: string): AxiosRequestConfig {
  const url = new URL(href);
  if (axios.VERSION !== '1.0.0' || url.search === '') return { url: href };
  return { url: `${url.origin}${url.pathname}`, params: url.searchParams };
}

function harness(axios: AxiosStatic): AdapterHarness {
  return {
    name: `axios ${axios.VERSION}`,
    replayableBodies: ['json', 'text', 'urlsearchparams', 'formdata', 'bytes'],
    createClient(session, options = {}) {
      const instance = axios.create({ headers: { ...options.defaultHeaders } });
      const eject = installOAuth(instance, session);
      return {
        async request(request: ContractRequest): Promise<ContractResponse> {
          const body = request.body === undefined ? {} : await bodyConfig(axios, request.body);
          try {
            const response = await instance.request<string>({
              ...body,
              ...target(axios, request.url),
              method: request.method,
              headers: { ...request.headers, ...body.headers },
              responseType: 'text',
              ...(request.signal === undefined ? {} : { signal: request.signal }),
            });
            return { status: response.status, body: response.data };
          } catch (error) {
            if (axios.isAxiosError(error) && error.response !== undefined) {
              return { status: error.response.status, body: String(error.response.data) };
            }
            return { error };
          }
        },
        dispose: eject,
      };
    },
    createHttpClient(options = {}) {
      return createAxiosHttpClient(axios.create({ headers: { ...options.defaultHeaders } }));
    },
  };
}

describeAdapterContract(harness(latest));
describeAdapterContract(harness(oldest as unknown as AxiosStatic));
