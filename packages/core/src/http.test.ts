import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isOAuthClientError, type OAuthClientError } from './errors.js';
import {
  createHttpContext,
  DEFAULT_MAX_REDIRECTS,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_TIMEOUT_MS,
  type OAuthHttpClient,
  type OAuthHttpRequest,
  type OAuthHttpResponse,
  parseJsonObject,
  sendRequest,
  utf8Length,
} from './http.js';
import type { OAuthLogger } from './logger.js';
import { FakeHttpClient } from './test-utils/fake-http.js';
import { formRequest } from './token.js';

const CONTEXT = { issuer: 'https://as.example', tokenEndpoint: 'https://as.example/token', now: 0 };

const BASE = 'https://as.example.com';

async function caught(promise: Promise<unknown>): Promise<OAuthClientError> {
  try {
    await promise;
  } catch (error) {
    if (isOAuthClientError(error)) return error;
    throw error;
  }
  throw new Error('expected the promise to reject');
}

function caughtSync(run: () => unknown): OAuthClientError {
  try {
    run();
  } catch (error) {
    if (isOAuthClientError(error)) return error;
    throw error;
  }
  throw new Error('expected the call to throw');
}

/** No SECRET anywhere a log or a serialised error could carry it. */
function expectNoSecret(error: OAuthClientError): void {
  expect(error.message).not.toContain('SECRET');
  expect(JSON.stringify(error)).not.toContain('SECRET');
  expect(inspect(error, { depth: 5 })).not.toContain('SECRET');
  // A transport failure keeps only its sanitized summary as the cause.
  if (error.cause !== undefined) {
    expect(error.cause.code).toBe('network_error');
    expect(error.cause.message).toMatch(/^[A-Za-z]\w*( [A-Z][A-Z0-9_]+)?$/);
  }
}

/** A client whose replies are computed by a function, recording every request it is given. */
function stubClient(reply: (request: OAuthHttpRequest) => Promise<OAuthHttpResponse> | OAuthHttpResponse): {
  client: OAuthHttpClient;
  requests: OAuthHttpRequest[];
} {
  const requests: OAuthHttpRequest[] = [];
  return {
    requests,
    client: {
      send(request) {
        requests.push(request);
        return Promise.resolve().then(() => reply(request));
      },
    },
  };
}

function redirect(status: number, location: string): Partial<OAuthHttpResponse> {
  return { status, headers: { location } };
}

describe('createHttpContext', () => {
  it('applies the defaults', () => {
    const context = createHttpContext(new FakeHttpClient());
    expect(context.timeoutMs).toBe(DEFAULT_TIMEOUT_MS);
    expect(context.maxResponseBytes).toBe(DEFAULT_MAX_RESPONSE_BYTES);
    expect(context.maxRedirects).toBe(DEFAULT_MAX_REDIRECTS);
  });
});

describe('sendRequest', () => {
  it('sends exactly the given method, URL, headers and body, and returns the response', async () => {
    const fake = new FakeHttpClient().on('POST', `${BASE}/token`, {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    const seen: OAuthHttpRequest[] = [];
    const client: OAuthHttpClient = {
      send(request) {
        seen.push(request);
        return fake.send(request);
      },
    };
    const headers = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    const response = await sendRequest(
      createHttpContext(client, { timeoutMs: 1234, maxResponseBytes: 999 }),
      {
        method: 'POST',
        url: `${BASE}/token`,
        headers,
        body: 'grant_type=refresh_token',
        redirect: 'never',
      },
    );
    expect(response).toEqual({ status: 200, headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(fake.requests).toEqual([
      {
        method: 'POST',
        url: `${BASE}/token`,
        headers,
        body: 'grant_type=refresh_token',
        form: { grant_type: 'refresh_token' },
      },
    ]);
    expect(Object.keys(seen[0]!.headers).sort()).toEqual(['accept', 'content-type']);
    expect(seen[0]).toMatchObject({ redirect: 'never', timeoutMs: 1234, maxResponseBytes: 999 });
    expect(seen[0]!.signal).toBeInstanceOf(AbortSignal);
  });

  it('sends no headers and no body when none are given', async () => {
    const { client, requests } = stubClient(() => ({ status: 204, headers: {}, body: '' }));
    await sendRequest(createHttpContext(client), {
      method: 'GET',
      url: `${BASE}/x`,
      redirect: 'same-origin',
    });
    expect(requests[0]!.headers).toEqual({});
    expect('body' in requests[0]!).toBe(false);
  });

  it('refuses a relative request URL without sending anything', async () => {
    const fake = new FakeHttpClient();
    const error = await caught(
      sendRequest(createHttpContext(fake), { method: 'GET', url: '/relative', redirect: 'same-origin' }),
    );
    expect(error.code).toBe('unsafe_url');
    expect(fake.requests).toHaveLength(0);
  });

  describe('redirects', () => {
    it('follows same-origin redirects, resolving relative locations and dropping fragments', async () => {
      const fake = new FakeHttpClient()
        .on('GET', `${BASE}/a?x=1`, redirect(301, '/b#frag'))
        .on('GET', `${BASE}/b`, redirect(302, `${BASE}/c`))
        .on('GET', `${BASE}/c`, redirect(307, 'd'))
        .on('GET', `${BASE}/d`, redirect(308, '/e'))
        .json('GET', `${BASE}/e`, { ok: true });
      const response = await sendRequest(createHttpContext(fake), {
        method: 'GET',
        url: `${BASE}/a?x=1`,
        headers: { accept: 'application/json' },
        redirect: 'same-origin',
      });
      expect(response.body).toBe('{"ok":true}');
      expect(fake.log).toEqual([
        `GET ${BASE}/a?x=1`,
        `GET ${BASE}/b`,
        `GET ${BASE}/c`,
        `GET ${BASE}/d`,
        `GET ${BASE}/e`,
      ]);
      expect(fake.requests.every((request) => request.headers.accept === 'application/json')).toBe(true);
    });

    it(`follows up to ${DEFAULT_MAX_REDIRECTS} redirects`, async () => {
      const fake = new FakeHttpClient();
      for (let hop = 0; hop < DEFAULT_MAX_REDIRECTS; hop++)
        fake.on('GET', `${BASE}/${hop}`, redirect(302, `/${hop + 1}`));
      fake.json('GET', `${BASE}/${DEFAULT_MAX_REDIRECTS}`, { ok: true });
      const response = await sendRequest(createHttpContext(fake), {
        method: 'GET',
        url: `${BASE}/0`,
        redirect: 'same-origin',
      });
      expect(response.status).toBe(200);
      expect(fake.requests).toHaveLength(DEFAULT_MAX_REDIRECTS + 1);
    });

    it(`fails on redirect number ${DEFAULT_MAX_REDIRECTS + 1} and sends nothing after it`, async () => {
      const fake = new FakeHttpClient();
      fake.on('GET', `${BASE}/0?secret=SECRET`, redirect(302, '/1'));
      for (let hop = 1; hop < 20; hop++) fake.on('GET', `${BASE}/${hop}`, redirect(302, `/${hop + 1}`));
      const error = await caught(
        sendRequest(createHttpContext(fake), {
          method: 'GET',
          url: `${BASE}/0?secret=SECRET`,
          redirect: 'same-origin',
        }),
      );
      expect(error.code).toBe('redirect_not_allowed');
      expect(error.status).toBe(302);
      expect(error.message).toContain(`more than ${DEFAULT_MAX_REDIRECTS} times`);
      expectNoSecret(error);
      expect(fake.requests).toHaveLength(DEFAULT_MAX_REDIRECTS + 1);
    });

    it('stops a redirect loop', async () => {
      const fake = new FakeHttpClient().on('GET', `${BASE}/loop`, redirect(302, '/loop'));
      const error = await caught(
        sendRequest(createHttpContext(fake), { method: 'GET', url: `${BASE}/loop`, redirect: 'same-origin' }),
      );
      expect(error.code).toBe('redirect_not_allowed');
      expect(fake.requests).toHaveLength(DEFAULT_MAX_REDIRECTS + 1);
    });

    it.each([
      ['another host', 'https://evil.example/metadata'],
      ['another scheme', 'http://as.example.com/metadata'],
      ['another port', 'https://as.example.com:8443/metadata'],
      ['a subdomain', 'https://sub.as.example.com/metadata'],
      ['javascript:', 'javascript:alert(1)'],
    ])('refuses a redirect to %s and never contacts it', async (_name, location) => {
      const fake = new FakeHttpClient()
        .on('GET', `${BASE}/metadata`, redirect(302, location))
        .json('GET', location, {});
      const error = await caught(
        sendRequest(createHttpContext(fake), {
          method: 'GET',
          url: `${BASE}/metadata`,
          redirect: 'same-origin',
        }),
      );
      expect(error.code).toBe('redirect_not_allowed');
      expect(error.message).toContain('another origin');
      expect(fake.log).toEqual([`GET ${BASE}/metadata`]);
    });

    it('refuses a cross-origin redirect reached after a same-origin hop', async () => {
      const fake = new FakeHttpClient()
        .on('GET', `${BASE}/a`, redirect(302, '/b'))
        .on('GET', `${BASE}/b`, redirect(302, 'https://evil.example/c'));
      const error = await caught(
        sendRequest(createHttpContext(fake), { method: 'GET', url: `${BASE}/a`, redirect: 'same-origin' }),
      );
      expect(error.code).toBe('redirect_not_allowed');
      expect(fake.log).toEqual([`GET ${BASE}/a`, `GET ${BASE}/b`]);
    });

    it.each([301, 302, 303, 307, 308])(
      'with redirect "never", a %i is an error after one request',
      async (status) => {
        const fake = new FakeHttpClient().on(
          'POST',
          `${BASE}/token?secret=SECRET`,
          redirect(status, '/token2'),
        );
        const error = await caught(
          sendRequest(createHttpContext(fake), {
            method: 'POST',
            url: `${BASE}/token?secret=SECRET`,
            body: 'code=SECRET',
            redirect: 'never',
          }),
        );
        expect(error.code).toBe('redirect_not_allowed');
        expect(error.status).toBe(status);
        expectNoSecret(error);
        expect(fake.requests).toHaveLength(1);
      },
    );

    it('does not treat other 3xx statuses as redirects', async () => {
      const fake = new FakeHttpClient().on('GET', `${BASE}/x`, { status: 304, headers: { location: '/y' } });
      const response = await sendRequest(createHttpContext(fake), {
        method: 'GET',
        url: `${BASE}/x`,
        redirect: 'never',
      });
      expect(response.status).toBe(304);
      expect(fake.requests).toHaveLength(1);
    });

    it('refuses a redirect without a location, or with an unparsable one', async () => {
      for (const headers of [{}, { location: 'http://[bad' }]) {
        const fake = new FakeHttpClient().on('GET', `${BASE}/x`, { status: 302, headers });
        const error = await caught(
          sendRequest(createHttpContext(fake), { method: 'GET', url: `${BASE}/x`, redirect: 'same-origin' }),
        );
        expect(error.code).toBe('redirect_not_allowed');
        expect(error.message).toContain('without a valid location');
        expect(fake.requests).toHaveLength(1);
      }
    });

    it.each([303, 301, 302])('a %i turns POST into GET without body or content-type', async (status) => {
      const fake = new FakeHttpClient()
        .on('POST', `${BASE}/register`, redirect(status, '/client/1'))
        .json('GET', `${BASE}/client/1`, { client_id: 'c' });
      const headers = { 'content-type': 'application/json', accept: 'application/json' };
      const response = await sendRequest(createHttpContext(fake), {
        method: 'POST',
        url: `${BASE}/register`,
        headers,
        body: '{"redirect_uris":[]}',
        redirect: 'same-origin',
      });
      expect(response.status).toBe(200);
      expect(fake.requests[1]).toEqual({
        method: 'GET',
        url: `${BASE}/client/1`,
        headers: { accept: 'application/json' },
        body: undefined,
        form: undefined,
      });
      expect(headers).toEqual({ 'content-type': 'application/json', accept: 'application/json' });
    });

    it('a 303 turns a GET into a GET', async () => {
      const fake = new FakeHttpClient()
        .on('GET', `${BASE}/a`, redirect(303, '/b'))
        .json('GET', `${BASE}/b`, {});
      await sendRequest(createHttpContext(fake), {
        method: 'GET',
        url: `${BASE}/a`,
        redirect: 'same-origin',
      });
      expect(fake.log).toEqual([`GET ${BASE}/a`, `GET ${BASE}/b`]);
    });

    it.each([307, 308])('a %i keeps the method, body and headers', async (status) => {
      const fake = new FakeHttpClient()
        .on('POST', `${BASE}/a`, redirect(status, '/b'))
        .json('POST', `${BASE}/b`, {});
      const headers = { 'content-type': 'application/x-www-form-urlencoded' };
      await sendRequest(createHttpContext(fake), {
        method: 'POST',
        url: `${BASE}/a`,
        headers,
        body: 'a=1',
        redirect: 'same-origin',
      });
      expect(fake.requests[1]).toMatchObject({ method: 'POST', url: `${BASE}/b`, headers, body: 'a=1' });
    });

    it('catches a client that followed a redirect to another origin itself', async () => {
      const fake = new FakeHttpClient().on('GET', `${BASE}/metadata`, {
        status: 200,
        body: '{}',
        url: 'https://evil.example/metadata',
      });
      const error = await caught(
        sendRequest(createHttpContext(fake), {
          method: 'GET',
          url: `${BASE}/metadata`,
          redirect: 'same-origin',
        }),
      );
      expect(error.code).toBe('redirect_not_allowed');
      expect(error.status).toBe(200);
    });

    it('catches a client that followed any redirect when redirects are not allowed', async () => {
      const fake = new FakeHttpClient().on('POST', `${BASE}/token`, {
        status: 200,
        body: '{}',
        url: `${BASE}/elsewhere`,
      });
      const error = await caught(
        sendRequest(createHttpContext(fake), { method: 'POST', url: `${BASE}/token`, redirect: 'never' }),
      );
      expect(error.code).toBe('redirect_not_allowed');
    });

    it('accepts a client-followed same-origin redirect when the policy allows one, and an unchanged url', async () => {
      const fake = new FakeHttpClient()
        .on('GET', `${BASE}/a`, { status: 200, body: 'a', url: `${BASE}/moved` })
        .on('GET', `${BASE}/b`, { status: 200, body: 'b', url: `${BASE}/b` });
      const context = createHttpContext(fake);
      expect(
        (await sendRequest(context, { method: 'GET', url: `${BASE}/a`, redirect: 'same-origin' })).body,
      ).toBe('a');
      expect((await sendRequest(context, { method: 'GET', url: `${BASE}/b`, redirect: 'never' })).body).toBe(
        'b',
      );
    });
  });

  describe('timeouts and aborts', () => {
    it('times out, aborts the signal it gave the client, and says so without the query', async () => {
      let signal: AbortSignal | undefined;
      const client: OAuthHttpClient = {
        send(request) {
          signal = request.signal;
          return new Promise(() => {});
        },
      };
      const error = await caught(
        sendRequest(createHttpContext(client, { timeoutMs: 20 }), {
          method: 'GET',
          url: `${BASE}/slow?secret=SECRET`,
          redirect: 'never',
        }),
      );
      expect(error.code).toBe('timeout');
      expect(error.message).toBe(`request to ${BASE}/slow timed out after 20 ms`);
      expectNoSecret(error);
      expect(signal?.aborted).toBe(true);
    });

    it('reports a timeout (not an abort) when the client rejects as soon as its signal is aborted', async () => {
      // What a fetch-based client does: the signal's abort makes fetch reject at once.
      const client: OAuthHttpClient = {
        send(request) {
          return new Promise((_, reject) => {
            request.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
          });
        },
      };
      const error = await caught(
        sendRequest(createHttpContext(client, { timeoutMs: 10 }), {
          method: 'GET',
          url: `${BASE}/slow`,
          redirect: 'never',
        }),
      );
      expect(error.code).toBe('timeout');
    });

    it('gives each hop its own timeout', async () => {
      let calls = 0;
      const client: OAuthHttpClient = {
        async send(request) {
          calls++;
          await new Promise((resolve) => setTimeout(resolve, 15));
          return request.url.endsWith('/a')
            ? { status: 302, headers: { location: '/b' }, body: '' }
            : { status: 200, headers: {}, body: 'done' };
        },
      };
      const response = await sendRequest(createHttpContext(client, { timeoutMs: 25 }), {
        method: 'GET',
        url: `${BASE}/a`,
        redirect: 'same-origin',
      });
      expect(response.body).toBe('done');
      expect(calls).toBe(2);
    });

    it('turns an outer abort into "aborted" and aborts the client signal', async () => {
      const controller = new AbortController();
      let signal: AbortSignal | undefined;
      const client: OAuthHttpClient = {
        send(request) {
          signal = request.signal;
          setTimeout(() => controller.abort(), 5);
          return new Promise(() => {});
        },
      };
      const error = await caught(
        sendRequest(createHttpContext(client), {
          method: 'GET',
          url: `${BASE}/x`,
          redirect: 'never',
          signal: controller.signal,
        }),
      );
      expect(error.code).toBe('aborted');
      expect(signal?.aborted).toBe(true);
    });

    it('turns an outer abort into "aborted" when the client rejects on its own signal', async () => {
      const controller = new AbortController();
      const client: OAuthHttpClient = {
        send(request) {
          setTimeout(() => controller.abort(), 5);
          return new Promise((_, reject) => {
            request.signal.addEventListener('abort', () => reject(new Error('The operation was aborted')));
          });
        },
      };
      const error = await caught(
        sendRequest(createHttpContext(client), {
          method: 'GET',
          url: `${BASE}/x`,
          redirect: 'never',
          signal: controller.signal,
        }),
      );
      expect(error.code).toBe('aborted');
    });

    it('sends nothing when the outer signal is already aborted', async () => {
      const fake = new FakeHttpClient();
      const error = await caught(
        sendRequest(createHttpContext(fake), {
          method: 'GET',
          url: `${BASE}/x`,
          redirect: 'never',
          signal: AbortSignal.abort(),
        }),
      );
      expect(error.code).toBe('aborted');
      expect(fake.requests).toHaveLength(0);
    });

    it('stops following redirects once aborted', async () => {
      const controller = new AbortController();
      const fake = new FakeHttpClient().on('GET', `${BASE}/a`, () => {
        controller.abort();
        return redirect(302, '/b');
      });
      const error = await caught(
        sendRequest(createHttpContext(fake), {
          method: 'GET',
          url: `${BASE}/a`,
          redirect: 'same-origin',
          signal: controller.signal,
        }),
      );
      expect(error.code).toBe('aborted');
      expect(fake.log).toEqual([`GET ${BASE}/a`]);
    });

    it('removes its listener from the outer signal when done', async () => {
      const controller = new AbortController();
      let added = 0;
      let removed = 0;
      const signal = controller.signal;
      const add = signal.addEventListener.bind(signal);
      const remove = signal.removeEventListener.bind(signal);
      signal.addEventListener = ((...args: Parameters<typeof add>) => {
        added++;
        add(...args);
      }) as typeof signal.addEventListener;
      signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
        removed++;
        remove(...args);
      }) as typeof signal.removeEventListener;
      const fake = new FakeHttpClient().json('GET', `${BASE}/x`, {});
      await sendRequest(createHttpContext(fake), {
        method: 'GET',
        url: `${BASE}/x`,
        redirect: 'never',
        signal,
      });
      expect(added).toBe(1);
      expect(removed).toBe(1);
    });
  });

  describe('client failures', () => {
    it.each([
      [
        'rejects',
        () => Promise.reject(new Error('connect ECONNREFUSED https://as.example.com/x?secret=SECRET')),
      ],
      [
        'throws synchronously',
        () => {
          throw new TypeError('fetch failed for ?secret=SECRET');
        },
      ],
      ['rejects with a non-error', () => Promise.reject('SECRET')],
    ])(
      'a client that %s gives network_error without the query or the original error',
      async (_name, send) => {
        const client = { send } as unknown as OAuthHttpClient;
        const error = await caught(
          sendRequest(createHttpContext(client), {
            method: 'GET',
            url: `${BASE}/x?secret=SECRET`,
            redirect: 'never',
          }),
        );
        expect(error.code).toBe('network_error');
        expect(error.message).toBe(`request to ${BASE}/x failed`);
        expectNoSecret(error);
      },
    );

    it.each([
      ['null', null],
      ['undefined', undefined],
      ['a string', 'HTTP/1.1 200 OK'],
      ['no status', { headers: {}, body: '' }],
      ['a string status', { status: '200', headers: {}, body: '' }],
      ['a fractional status', { status: 200.5, headers: {}, body: '' }],
      ['a NaN status', { status: Number.NaN, headers: {}, body: '' }],
      ['no headers', { status: 200, body: '' }],
      ['null headers', { status: 200, headers: null, body: '' }],
      ['no body', { status: 200, headers: {} }],
      ['a byte-array body', { status: 200, headers: {}, body: new Uint8Array(2) }],
    ])('a malformed response (%s) gives network_error', async (_name, response) => {
      const client = { send: async () => response } as unknown as OAuthHttpClient;
      const error = await caught(
        sendRequest(createHttpContext(client), {
          method: 'GET',
          url: `${BASE}/x?secret=SECRET`,
          redirect: 'never',
        }),
      );
      expect(error.code).toBe('network_error');
      expect(error.message).toContain('malformed response');
      expectNoSecret(error);
    });

    it('refuses a body over maxResponseBytes', async () => {
      const fake = new FakeHttpClient().on('GET', `${BASE}/big?secret=SECRET`, {
        status: 200,
        body: 'x'.repeat(101),
      });
      const error = await caught(
        sendRequest(createHttpContext(fake, { maxResponseBytes: 100 }), {
          method: 'GET',
          url: `${BASE}/big?secret=SECRET`,
          redirect: 'never',
        }),
      );
      expect(error.code).toBe('response_too_large');
      expectNoSecret(error);
    });

    it('counts the body in UTF-8 bytes, not characters', async () => {
      const body = 'é'.repeat(60); // 60 characters, 120 bytes
      const fake = new FakeHttpClient().on('GET', `${BASE}/big`, { status: 200, body });
      const error = await caught(
        sendRequest(createHttpContext(fake, { maxResponseBytes: 100 }), {
          method: 'GET',
          url: `${BASE}/big`,
          redirect: 'never',
        }),
      );
      expect(error.code).toBe('response_too_large');
    });

    it('accepts a body of exactly maxResponseBytes', async () => {
      const fake = new FakeHttpClient().on('GET', `${BASE}/ok`, { status: 200, body: 'é'.repeat(50) });
      const response = await sendRequest(createHttpContext(fake, { maxResponseBytes: 100 }), {
        method: 'GET',
        url: `${BASE}/ok`,
        redirect: 'never',
      });
      expect(response.body).toHaveLength(50);
    });

    it('returns error statuses as responses for the caller to judge', async () => {
      const fake = new FakeHttpClient().json('POST', `${BASE}/token`, { error: 'invalid_grant' }, 400);
      const response = await sendRequest(createHttpContext(fake), {
        method: 'POST',
        url: `${BASE}/token`,
        redirect: 'never',
      });
      expect(response.status).toBe(400);
    });
  });

  it('logs requests without the query', async () => {
    const events: unknown[] = [];
    const logger: OAuthLogger = {
      debug: (event, data) => events.push([event, data]),
      warn: (event, data) => events.push([event, data]),
    };
    const fake = new FakeHttpClient().on('GET', `${BASE}/a?code=SECRET`, redirect(302, '/b?code=SECRET'));
    await sendRequest(createHttpContext(fake, { logger }), {
      method: 'GET',
      url: `${BASE}/a?code=SECRET`,
      redirect: 'same-origin',
    });
    expect(events).toEqual([
      ['http.request', { method: 'GET', url: `${BASE}/a` }],
      ['http.request', { method: 'GET', url: `${BASE}/b` }],
    ]);
  });
});

describe('utf8Length', () => {
  it.each([
    ['', 0],
    ['abc', 3],
    ['é', 2],
    ['☕', 3],
    ['😀', 4],
  ])('%j → %i', (value, expected) => {
    expect(utf8Length(value)).toBe(expected);
  });
});

describe('parseJsonObject', () => {
  function response(body: string, headers: Record<string, string> = {}): OAuthHttpResponse {
    return { status: 200, headers, body };
  }

  it.each([
    ['application/json', 'application/json'],
    ['with charset', 'application/json; charset=utf-8'],
    ['upper case', 'Application/JSON'],
    ['problem+json', 'application/problem+json'],
    ['a vendor +json type', 'application/vnd.example.metadata+json; version=1'],
    ['spaces around', '  application/json  ;charset=UTF-8'],
  ])('accepts %s', (_name, contentType) => {
    expect(parseJsonObject(response('{"issuer":"x"}', { 'content-type': contentType }), 'metadata')).toEqual({
      issuer: 'x',
    });
  });

  it('accepts an absent content type', () => {
    expect(parseJsonObject(response('{"a":1}'), 'metadata')).toEqual({ a: 1 });
  });

  it.each([
    ['text/html', 'text/html'],
    ['text/plain', 'text/plain'],
    ['application/jsonp', 'application/jsonp'],
    ['application/json-seq', 'application/json-seq'],
    ['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded'],
    ['empty', ''],
    ['json as a parameter only', 'text/html; x=application/json'],
  ])('refuses a %s content type', (_name, contentType) => {
    const error = caughtSync(() =>
      parseJsonObject(response('{"a":1}', { 'content-type': contentType }), 'authorization server metadata'),
    );
    expect(error.code).toBe('metadata_invalid');
    expect(error.message).toBe('authorization server metadata must be served as JSON');
  });

  it.each([
    ['invalid JSON', '{"a":', 'is not valid JSON'],
    ['an empty body', '', 'is not valid JSON'],
    ['HTML', '<html>SECRET</html>', 'is not valid JSON'],
    ['an array', '[{"a":1}]', 'must be a JSON object'],
    ['null', 'null', 'must be a JSON object'],
    ['a string', '"SECRET"', 'must be a JSON object'],
    ['a number', '42', 'must be a JSON object'],
    ['true', 'true', 'must be a JSON object'],
  ])('refuses %s', (_name, body, message) => {
    const error = caughtSync(() =>
      parseJsonObject(
        { status: 201, headers: { 'content-type': 'application/json' }, body },
        'token response',
        'token_response_invalid',
      ),
    );
    expect(error.code).toBe('token_response_invalid');
    expect(error.status).toBe(201);
    expect(error.message).toBe(`token response ${message}`);
    expectNoSecret(error);
  });

  it('keeps __proto__ as an own property instead of a prototype', () => {
    const parsed = parseJsonObject(response('{"__proto__":{"polluted":true}}'), 'metadata');
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('form bodies (formRequest)', () => {
  const formEncode = async (parameters: Record<string, string | undefined>) =>
    (await formRequest('https://as.example/token', parameters, undefined, CONTEXT)).body;

  it.each([
    [{ grant_type: 'authorization_code', code: 'abc' }, 'grant_type=authorization_code&code=abc'],
    [
      { scope: 'read write', redirect_uri: 'http://127.0.0.1:3000/cb?x=1&y' },
      'scope=read+write&redirect_uri=http%3A%2F%2F127.0.0.1%3A3000%2Fcb%3Fx%3D1%26y',
    ],
    [{ a: undefined, b: 'x', c: undefined }, 'b=x'],
    [{ empty: '' }, 'empty='],
    [{ unicode: 'café ☕' }, 'unicode=caf%C3%A9+%E2%98%95'],
    [{ 'weird key&': '=+%' }, 'weird+key%26=%3D%2B%25'],
    [{}, ''],
  ])('%j → %s', async (parameters, expected) => {
    expect(await formEncode(parameters)).toBe(expected);
  });

  it('round-trips through URLSearchParams', async () => {
    const parameters = {
      code_verifier: 'a-b_c.d~e',
      state: 'x y+z',
      resource: 'https://mcp.example.com/mcp',
    };
    expect(Object.fromEntries(new URLSearchParams(await formEncode(parameters)))).toEqual(parameters);
  });
});

describe('network failures keep a sanitized cause', () => {
  it('keeps the name and system code, never the message', async () => {
    const { createHttpContext: create, sendRequest: send } = await import('./http.js');
    const failing = {
      send: async () => {
        throw new TypeError('fetch failed for https://as.example/token?code=SECRET', {
          cause: Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443 ?code=SECRET'), {
            code: 'ECONNREFUSED',
          }),
        });
      },
    };
    const error = await send(create(failing), {
      method: 'GET',
      url: 'https://as.example/x?y=SECRET',
      redirect: 'never',
    }).catch((e) => e);
    expect(error.code).toBe('network_error');
    expect(error.cause).toMatchObject({ code: 'network_error', message: 'TypeError ECONNREFUSED' });
    expect(JSON.stringify(error) + String(error.cause) + error.message).not.toContain('SECRET');
  });
});
