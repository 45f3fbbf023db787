import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { type AdapterHarness, type ContractRequest, describeAdapterContract } from '@mcp-oauth/testkit';
import type { Got, OptionsInit, Response } from 'got';
import { createGotHttpClient, withOAuth } from './index.js';
import { GOT_VERSIONS } from './test-utils/versions.js';

/** The suite's request as got options: each body kind in the form got takes it. */
function gotOptions(request: ContractRequest): OptionsInit {
  const headers: Record<string, string> = { ...request.headers };
  const options: OptionsInit = { method: request.method, headers };
  if (request.signal !== undefined) options.signal = request.signal;
  if (request.body === undefined) return options;
  const { kind, value, contentType } = request.body;
  if (contentType !== undefined && kind !== 'json') headers['content-type'] ??= contentType;
  switch (kind) {
    case 'json':
      options.json = value;
      break;
    case 'urlsearchparams':
      // got's `form` takes a plain object; the string keeps repeated keys and their order.
      headers['content-type'] ??= 'application/x-www-form-urlencoded';
      options.body = String(value);
      break;
    case 'bytes':
      options.body = Buffer.from(value as Uint8Array);
      break;
    case 'stream':
      options.body = Readable.fromWeb(value as NodeReadableStream<Uint8Array>);
      break;
    default:
      options.body = value as string | FormData;
  }
  return options;
}

function harnessFor(name: string, got: Got): AdapterHarness {
  return {
    name,
    createClient(session, harnessOptions) {
      const client = withOAuth(got.extend({ headers: { ...harnessOptions?.defaultHeaders } }), session);
      return {
        async request(request) {
          try {
            const response = (await client(request.url, gotOptions(request))) as Response<string>;
            return { status: response.statusCode, body: response.body };
          } catch (error) {
            const response = (error as { name?: string; response?: { statusCode: number; body: unknown } })
              .response;
            if ((error as Error).name === 'HTTPError' && response !== undefined) {
              return { status: response.statusCode, body: String(response.body), raised: error };
            }
            return { error };
          }
        },
      };
    },
    createHttpClient: (harnessOptions) =>
      createGotHttpClient(got.extend({ headers: { ...harnessOptions?.defaultHeaders } })),
    throwsHttpErrors: true,
    replayableBodies: ['json', 'text', 'urlsearchparams', 'formdata', 'bytes'],
  };
}

for (const { name, got } of GOT_VERSIONS) describeAdapterContract(harnessFor(name, got));
