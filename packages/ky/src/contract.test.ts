// The shared adapter contract, run against the oldest and newest release of each ky major.
import type { OAuthHttpClient, OAuthSession } from '@mcp-oauth/core';
import { type AdapterHarness, describeAdapterContract, type HarnessOptions } from '@mcp-oauth/testkit';
import type { KyInstance } from 'ky';
import { createKyHttpClient, withOAuth } from './index.js';
import { KY_VERSIONS, kyOptions, report } from './test-utils/ky.js';

function harness(name: string, base: KyInstance): AdapterHarness {
  const instance = (options: HarnessOptions = {}) =>
    options.defaultHeaders === undefined ? base : base.create({ headers: { ...options.defaultHeaders } });
  return {
    name,
    createClient(session: OAuthSession, options?: HarnessOptions) {
      const api = withOAuth(instance(options), session);
      return { request: (request) => report(api(request.url, kyOptions(request))) };
    },
    createHttpClient(options?: HarnessOptions): OAuthHttpClient {
      return createKyHttpClient(instance(options));
    },
    throwsHttpErrors: true,
    // The authorized fetch reads every body once, streams included, to send it again.
    replayableBodies: ['json', 'text', 'urlsearchparams', 'formdata', 'bytes', 'stream'],
  };
}

for (const [name, instance] of KY_VERSIONS) describeAdapterContract(harness(name, instance));
