import { describe, expect, it, vi } from 'vitest';
import {
  AUTHORIZATION_HEADER_NAMES,
  exchangeWithAuthorization,
  isCrossOrigin,
  planRedirect,
  readTextWithLimit,
  requestNotReplayable,
} from './adapter.js';
import { isOAuthClientError } from './errors.js';
import { OAuthSession } from './session.js';
import { FakeServer } from './test-utils/fake-server.js';

interface FakeResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly id: number;
}

/** A session-like object scripted with the verdicts `handleResponse` returns, recording every call. */
function scriptedSession(verdicts: Array<'retry' | 'pass' | Error>) {
  let headerCalls = 0;
  const getAuthorizationHeaders = vi.fn(async (_request: unknown) => ({
    authorization: `Bearer t${++headerCalls}`,
  }));
  const handleResponse = vi.fn(async (_response: Record<string, unknown>) => {
    const verdict = verdicts.shift() ?? 'pass';
    if (verdict instanceof Error) throw verdict;
    return verdict;
  });
  const session = { getAuthorizationHeaders, handleResponse } as unknown as OAuthSession;
  return { session, getAuthorizationHeaders, handleResponse };
}

function exchangeOver(
  session: OAuthSession,
  statuses: number[],
  options: { url?: (id: number) => string } = {},
) {
  const sent: Array<{ authorization: Record<string, string>; attempt: number }> = [];
  const discarded: number[] = [];
  let id = 0;
  const signal = new AbortController().signal;
  const run = () =>
    exchangeWithAuthorization<FakeResponse>({
      session,
      method: 'POST',
      url: 'https://mcp.example.com/mcp',
      signal,
      send: async (authorization, attempt) => {
        sent.push({ authorization, attempt });
        return { status: statuses[id] ?? 200, headers: { 'x-id': String(id) }, id: id++ };
      },
      observe: (response) => ({
        status: response.status,
        headers: response.headers,
        ...(options.url === undefined ? {} : { url: options.url(response.id) }),
      }),
      discard: (response) => {
        discarded.push(response.id);
      },
    });
  return { run, sent, discarded, signal };
}

describe('exchangeWithAuthorization', () => {
  it('sends once and hands back the response when the session passes it', async () => {
    const { session, handleResponse } = scriptedSession(['pass']);
    const { run, sent, discarded } = exchangeOver(session, [200]);
    expect(await run()).toMatchObject({ status: 200, id: 0 });
    expect(sent).toEqual([{ authorization: { authorization: 'Bearer t1' }, attempt: 0 }]);
    expect(discarded).toEqual([]);
    expect(handleResponse).toHaveBeenCalledTimes(1);
  });

  it('retries once with fresh headers, discarding the first response', async () => {
    const { session, getAuthorizationHeaders, handleResponse } = scriptedSession(['retry', 'pass']);
    const { run, sent, discarded, signal } = exchangeOver(session, [401, 200]);
    expect(await run()).toMatchObject({ status: 200, id: 1 });
    expect(sent).toEqual([
      { authorization: { authorization: 'Bearer t1' }, attempt: 0 },
      { authorization: { authorization: 'Bearer t2' }, attempt: 1 },
    ]);
    expect(discarded).toEqual([0]);
    expect(getAuthorizationHeaders.mock.calls.map(([request]) => request)).toEqual([
      { method: 'POST', url: 'https://mcp.example.com/mcp', signal },
      { method: 'POST', url: 'https://mcp.example.com/mcp', signal },
    ]);
    expect(handleResponse.mock.calls.map(([response]) => response)).toEqual([
      {
        method: 'POST',
        url: 'https://mcp.example.com/mcp',
        status: 401,
        headers: { 'x-id': '0' },
        requestHeaders: { authorization: 'Bearer t1' },
        attempt: 0,
        signal,
      },
      {
        method: 'POST',
        url: 'https://mcp.example.com/mcp',
        status: 200,
        headers: { 'x-id': '1' },
        requestHeaders: { authorization: 'Bearer t2' },
        attempt: 1,
        signal,
      },
    ]);
  });

  it('never retries twice: the retry response is handed back whatever the verdict', async () => {
    const { session } = scriptedSession(['retry', 'retry', 'retry']);
    const { run, sent, discarded } = exchangeOver(session, [401, 401, 401]);
    expect(await run()).toMatchObject({ status: 401, id: 1 });
    expect(sent).toHaveLength(2);
    expect(discarded).toEqual([0]);
  });

  it('judges a response by the URL the adapter says produced it', async () => {
    const { session, handleResponse } = scriptedSession(['pass']);
    const { run } = exchangeOver(session, [401], { url: () => 'https://login.example.com/' });
    await run();
    expect(handleResponse.mock.calls[0]![0].url).toBe('https://login.example.com/');
  });

  it('lets errors from the session and from sending through, without another send', async () => {
    const failure = new Error('session failed');
    const { session } = scriptedSession([failure]);
    const { run, sent, discarded } = exchangeOver(session, [401]);
    await expect(run()).rejects.toBe(failure);
    expect(sent).toHaveLength(1);
    // The failed response is not handed back, so its body is freed.
    expect(discarded).toEqual([0]);

    const { session: quiet } = scriptedSession([]);
    await expect(
      exchangeWithAuthorization({
        session: quiet,
        method: 'GET',
        url: 'https://mcp.example.com/mcp',
        send: async () => {
          throw new TypeError('network down');
        },
        observe: () => ({ status: 200, headers: {} }),
      }),
    ).rejects.toThrow('network down');
  });

  it('works without a discard step', async () => {
    const { session } = scriptedSession(['retry', 'pass']);
    let sends = 0;
    const response = await exchangeWithAuthorization({
      session,
      method: 'GET',
      url: 'https://mcp.example.com/mcp',
      send: async () => ++sends,
      observe: (count) => ({ status: count === 1 ? 401 : 200, headers: {} }),
    });
    expect(response).toBe(2);
  });

  it('drives a real OAuthSession from a first 401 to an authorized retry', async () => {
    const server = new FakeServer();
    const session = new OAuthSession({
      serverUrl: server.resourceUrl,
      httpClient: server.http,
      client: { redirectUris: ['http://127.0.0.1:8765/callback'] },
      authorizationHandler: ({ authorizationUrl }) => server.approve(authorizationUrl),
      clock: () => server.now,
    });
    const seen: Array<Record<string, string>> = [];
    const response = await exchangeWithAuthorization({
      session,
      method: 'POST',
      url: server.resourceUrl,
      send: async (authorization) => {
        seen.push(authorization);
        return server.resource(authorization);
      },
      observe: (reply) => reply,
    });
    expect(response.status).toBe(200);
    expect(seen).toEqual([{}, { authorization: `Bearer ${server.issuedAccessTokens[0]}` }]);
  });
});

function streamOf(chunks: Uint8Array[], onCancel?: () => void): ReadableStream<Uint8Array> {
  const queue = [...chunks];
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = queue.shift();
      if (chunk === undefined) controller.close();
      else controller.enqueue(chunk);
    },
    cancel() {
      onCancel?.();
    },
  });
}

describe('readTextWithLimit', () => {
  const encoder = new TextEncoder();

  it('reads nothing from a missing body', async () => {
    expect(await readTextWithLimit(null, 10)).toBe('');
    expect(await readTextWithLimit(undefined, 10)).toBe('');
  });

  it('decodes UTF-8 split across chunks, up to and including the cap', async () => {
    const bytes = encoder.encode('héllo ✓');
    const chunks = [bytes.slice(0, 2), bytes.slice(2, 8), bytes.slice(8)];
    expect(await readTextWithLimit(streamOf(chunks), bytes.byteLength)).toBe('héllo ✓');
  });

  it('fails with response_too_large past the cap, cancels the stream and releases it', async () => {
    let cancelled = false;
    const stream = streamOf(
      [encoder.encode('12345'), encoder.encode('678'), encoder.encode('never read')],
      () => {
        cancelled = true;
      },
    );
    const error = await readTextWithLimit(stream, 7).catch((caught: unknown) => caught);
    expect(isOAuthClientError(error, 'response_too_large')).toBe(true);
    expect(cancelled).toBe(true);
    expect(stream.locked).toBe(false);
  });

  it('stops reading an endless stream', async () => {
    let pulls = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulls++;
        controller.enqueue(new Uint8Array(1024));
      },
    });
    await expect(readTextWithLimit(endless, 10 * 1024)).rejects.toMatchObject({ code: 'response_too_large' });
    expect(pulls).toBeLessThan(20);
  });

  it('passes a failing stream’s error through and releases it', async () => {
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.error(new TypeError('socket closed'));
      },
    });
    await expect(readTextWithLimit(stream, 10)).rejects.toThrow('socket closed');
    expect(stream.locked).toBe(false);
  });
});

describe('isCrossOrigin', () => {
  it.each([
    ['https://a.example.com/mcp', 'https://a.example.com/other?x=1', false],
    ['https://a.example.com/mcp', '/relative/path', false],
    ['https://a.example.com/mcp', '//b.example.com/mcp', true],
    ['https://a.example.com:443/mcp', 'https://A.EXAMPLE.com/x', false],
    ['https://a.example.com/mcp', 'http://a.example.com/mcp', true],
    ['http://127.0.0.1:8000/mcp', 'http://127.0.0.1:8001/mcp', true],
    ['https://a.example.com/mcp', 'https://b.a.example.com/mcp', true],
    ['not a url', 'https://a.example.com/', true],
    ['https://a.example.com/mcp', 'http://[bad', true],
  ])('%s → %s: %s', (from, to, expected) => {
    expect(isCrossOrigin(from, to)).toBe(expected);
  });

  it('takes URL objects', () => {
    expect(isCrossOrigin(new URL('https://a.example.com/x'), new URL('https://a.example.com/y'))).toBe(false);
    expect(isCrossOrigin(new URL('https://a.example.com/x'), new URL('https://b.example.com/x'))).toBe(true);
  });
});

describe('requestNotReplayable', () => {
  it('throws the request_not_replayable OAuthClientError', () => {
    let error: unknown;
    try {
      requestNotReplayable();
    } catch (caught) {
      error = caught;
    }
    expect(isOAuthClientError(error, 'request_not_replayable')).toBe(true);
    expect((error as Error).message).toMatch(/stream/);
  });

  it('names the headers adapters strip on cross-origin hops, lower-case', () => {
    expect(AUTHORIZATION_HEADER_NAMES).toEqual(['authorization', 'dpop']);
  });
});

describe('planRedirect', () => {
  const base = { method: 'POST', url: 'https://mcp.example.com/mcp', hop: 0 };

  it('is undefined for responses that are not redirects', () => {
    expect(planRedirect({ ...base, status: 200, location: '/x' })).toBeUndefined();
    expect(planRedirect({ ...base, status: 302, location: null })).toBeUndefined();
    expect(planRedirect({ ...base, status: 304, location: '/x' })).toBeUndefined();
  });

  it('keeps method and body on 307/308 and drops only the engine headers within the origin', () => {
    expect(planRedirect({ ...base, status: 307, location: '/mcp/v2' })).toEqual({
      url: 'https://mcp.example.com/mcp/v2',
      method: 'POST',
      dropBody: false,
      dropHeaders: ['authorization', 'dpop'],
    });
  });

  it.each([
    [303, 'PUT', 'GET', true],
    [303, 'HEAD', 'HEAD', false],
    [302, 'POST', 'GET', true],
    [301, 'POST', 'GET', true],
    [302, 'PUT', 'PUT', false],
  ])('%i after %s becomes %s (body dropped: %s)', (status, method, next, dropBody) => {
    const plan = planRedirect({ ...base, method, status, location: '/y' })!;
    expect(plan.method).toBe(next);
    expect(plan.dropBody).toBe(dropBody);
    expect(plan.dropHeaders.includes('content-type')).toBe(dropBody);
  });

  it('drops credentials and cookies when leaving the origin', () => {
    const plan = planRedirect({ ...base, status: 307, location: 'https://other.example.com/' })!;
    expect(plan.dropHeaders).toEqual(
      expect.arrayContaining(['authorization', 'dpop', 'cookie', 'proxy-authorization']),
    );
  });

  it('refuses non-http targets and too many hops as fetch does', () => {
    expect(() => planRedirect({ ...base, status: 302, location: 'javascript:alert(1)' })).toThrow(TypeError);
    expect(() => planRedirect({ ...base, status: 302, location: '/z', hop: 20 })).toThrow(
      'redirect count exceeded',
    );
  });
});
