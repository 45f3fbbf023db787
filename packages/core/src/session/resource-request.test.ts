import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { dpop } from '../dpop.js';
import type { OAuthLogger } from '../logger.js';
import { FakeServer, SERVER } from '../test-utils/fake-server.js';
import type { OAuthSessionOptions } from './options.js';
import type { NextStep, ResourceRequest, ResourceResponse, SendStep } from './resource-request.js';
import { OAuthSession } from './session.js';

const REDIRECT = 'http://127.0.0.1:8765/callback';

function setup(
  serverOptions: ConstructorParameters<typeof FakeServer>[0] = {},
  options: Partial<OAuthSessionOptions> = {},
) {
  const server = new FakeServer(serverOptions);
  const approvals: string[] = [];
  const events: Array<{ event: string; data: unknown }> = [];
  const logger: OAuthLogger = {
    debug: (event, data) => events.push({ event, data }),
    warn: (event, data) => events.push({ event, data }),
  };
  const session = new OAuthSession({
    serverUrl: server.resourceUrl,
    httpClient: server.http,
    client: { redirectUris: [REDIRECT] },
    authorizationHandler: async ({ authorizationUrl }) => {
      approvals.push(authorizationUrl);
      return server.approve(authorizationUrl);
    },
    clock: () => server.now,
    logger,
    ...options,
  });
  return { server, session, approvals, events };
}

/** Drives a request to its end; `answer` plays the resource server for each send. */
async function drive(
  request: ResourceRequest,
  answer: (step: SendStep, index: number) => ResourceResponse,
): Promise<{ sends: SendStep[]; last: NextStep }> {
  const sends: SendStep[] = [];
  for (let step: SendStep = request.first; ; ) {
    sends.push(step);
    const next = await request.respond(answer(step, sends.length - 1));
    if (next.type === 'done') return { sends, last: next };
    step = next;
  }
}

async function authorized(serverOptions = {}, options: Partial<OAuthSessionOptions> = {}) {
  const context = setup(serverOptions, options);
  const request = await context.session.beginRequest({ method: 'POST', url: context.server.resourceUrl });
  await drive(request, (step) => context.server.resource({ ...step.headers }));
  expect(context.session.getTokenInfo()).toBeDefined();
  return context;
}

describe('ResourceRequest: what it shows', () => {
  it('inspecting or serialising a request shows no credential (libraries keep it in their options)', async () => {
    const { server, session } = await authorized();
    const request = await session.beginRequest({ method: 'POST', url: server.resourceUrl });
    const token = request.first.headers.authorization?.replace('Bearer ', '');
    expect(token).toMatch(/\S{8,}/);
    for (const shown of [
      inspect(request, { depth: 5, showHidden: true }),
      JSON.stringify(request),
      JSON.stringify({ ...request }),
    ]) {
      expect(shown).not.toContain(token);
    }
  });
});

describe('ResourceRequest: redirects', () => {
  it.each([302, 307])(
    'a same-origin %i redirect outside the resource carries no credential',
    async (status) => {
      const { server, session } = await authorized();
      const request = await session.beginRequest({ method: 'POST', url: `${server.resourceUrl}/x` });
      expect(request.first.headers.authorization).toMatch(/^Bearer /);
      expect(request.first.redirect).toBe('manual');
      const { sends } = await drive(request, (step) =>
        step.url.endsWith('/mcp/x')
          ? { status, headers: { location: '/outside/x' } }
          : { status: 200, headers: {} },
      );
      expect(sends).toHaveLength(2);
      expect(sends[1]).toMatchObject({ url: `${SERVER}/outside/x`, headers: {}, reason: 'redirect' });
      expect(sends[1]!.removeHeaders).toEqual(expect.arrayContaining(['authorization', 'dpop']));
      expect(sends[1]!.withBody).toBe(status === 307);
    },
  );

  it('a hop back inside the resource gets a fresh DPoP proof for its own URL', async () => {
    const { server, session } = await authorized({ dpop: true }, { dpop: dpop() });
    const request = await session.beginRequest({ method: 'GET', url: server.resourceUrl });
    const { sends } = await drive(request, (step) =>
      step.url === server.resourceUrl
        ? { status: 308, headers: { location: `${server.resourceUrl}/moved` } }
        : { status: 200, headers: {} },
    );
    expect(sends[1]!.headers.authorization).toMatch(/^DPoP /);
    expect(sends[1]!.headers.dpop).not.toBe(sends[0]!.headers.dpop);
    const proof = JSON.parse(
      atob(sends[1]!.headers.dpop!.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')),
    );
    expect(proof.htu).toBe(`${server.resourceUrl}/moved`);
  });

  it('a cross-origin hop drops cookies too, and a redirect loop ends with redirect_not_allowed', async () => {
    const { server, session } = await authorized();
    const request = await session.beginRequest({ method: 'GET', url: server.resourceUrl });
    const first = await request.respond({ status: 302, headers: { location: 'https://elsewhere.example/' } });
    expect(first).toMatchObject({ url: 'https://elsewhere.example/', headers: {} });
    expect((first as SendStep).removeHeaders).toEqual(expect.arrayContaining(['cookie', 'authorization']));
    const looping = await session.beginRequest({ method: 'GET', url: server.resourceUrl });
    await expect(
      drive(looping, () => ({ status: 302, headers: { location: server.resourceUrl } })),
    ).rejects.toMatchObject({ code: 'redirect_not_allowed' });
  });

  it('hands 3xx back when the caller does not follow redirects', async () => {
    const { server, session } = await authorized();
    const request = await session.beginRequest({
      method: 'GET',
      url: server.resourceUrl,
      redirect: 'manual',
    });
    expect(request.first.redirect).toBe('manual');
    expect(await request.respond({ status: 302, headers: { location: '/elsewhere' } })).toEqual({
      type: 'done',
    });
  });

  it('a stream body that would have to be sent again is request_not_replayable', async () => {
    const { server, session } = await authorized();
    const request = await session.beginRequest({
      method: 'POST',
      url: server.resourceUrl,
      replayableBody: false,
    });
    await expect(
      request.respond({ status: 307, headers: { location: `${server.resourceUrl}/2` } }),
    ).rejects.toMatchObject({
      code: 'request_not_replayable',
    });
  });
});

describe('ResourceRequest: retries', () => {
  it('retries after a use_dpop_nonce that answers the authorization retry, with no retry by the caller', async () => {
    const { server, session, approvals } = setup({ dpop: true }, { dpop: dpop() });
    const request = await session.beginRequest({ method: 'POST', url: server.resourceUrl });
    const { sends } = await drive(request, (step, index) => {
      if (index === 0) return server.resource({ ...step.headers }); // 401: authorize
      if (index === 1) {
        return {
          status: 401,
          headers: { 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'dpop-nonce': 'n-1' },
        };
      }
      return server.resource({ ...step.headers });
    });
    expect(approvals).toHaveLength(1);
    expect(sends.map((step) => step.reason)).toEqual(['initial', 'retry', 'retry']);
    const proof = JSON.parse(
      atob(sends[2]!.headers.dpop!.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')),
    );
    expect(proof.nonce).toBe('n-1');
  });

  it('hands a third 401 back: one authorization retry and one nonce retry at most', async () => {
    const { server, session } = await authorized({ dpop: true }, { dpop: dpop() });
    const request = await session.beginRequest({ method: 'POST', url: server.resourceUrl });
    const nonce = {
      status: 401,
      headers: { 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'dpop-nonce': 'n-2' },
    };
    const { sends } = await drive(request, () => nonce);
    expect(sends).toHaveLength(2);
  });
});

describe('ResourceRequest: step-up bound', () => {
  it('a server alternating 403 with a new scope and 200 causes at most 3 step-ups over 30 requests', async () => {
    const { server, session, approvals } = await authorized();
    let round = 0;
    const outcomes: string[] = [];
    for (let index = 0; index < 30; index++) {
      const request = await session.beginRequest({ method: 'POST', url: server.resourceUrl });
      try {
        const { sends } = await drive(request, (_step, send) =>
          send === 0
            ? {
                status: 403,
                headers: {
                  'www-authenticate': `Bearer error="insufficient_scope", scope="extra:${++round}"`,
                },
              }
            : { status: 200, headers: {} },
        );
        outcomes.push(sends.length === 2 ? 'stepped-up' : 'passed');
      } catch (error) {
        outcomes.push((error as { code: string }).code);
      }
    }
    expect(approvals).toHaveLength(1 + 3);
    expect(outcomes.filter((outcome) => outcome === 'stepped-up')).toHaveLength(3);
    expect(outcomes.filter((outcome) => outcome === 'insufficient_scope')).toHaveLength(27);
    const tokenRequests = server.http.log.filter((line) => line.endsWith('/token'));
    expect(tokenRequests).toHaveLength(1 + 3);
  });

  it('allows step-ups again once the window has passed', async () => {
    const { server, session, approvals } = await authorized({}, { stepUps: { max: 1, windowMs: 60_000 } });
    const stepUp = async (scope: string) => {
      const request = await session.beginRequest({ method: 'POST', url: server.resourceUrl });
      return drive(request, (_step, send) =>
        send === 0
          ? {
              status: 403,
              headers: { 'www-authenticate': `Bearer error="insufficient_scope", scope="${scope}"` },
            }
          : { status: 200, headers: {} },
      );
    };
    await stepUp('a');
    await expect(stepUp('b')).rejects.toMatchObject({ code: 'insufficient_scope' });
    server.now += 61_000;
    await stepUp('c');
    expect(approvals).toHaveLength(3);
  });
});

describe('ResourceRequest: diagnostics', () => {
  it.each([
    ['path', `${SERVER}/mcp2`],
    ['path', `${SERVER}/`],
    ['origin', 'http://127.0.0.1:9/mcp'],
  ] as const)('a 401 outside the scope is logged with the reason (%s)', async (reason, url) => {
    const { session, events } = setup();
    const request = await session.beginRequest({ method: 'GET', url });
    expect(request.first.headers).toEqual({});
    expect(request.first.redirect).toBe('follow');
    expect(await request.respond({ status: 401, headers: { 'www-authenticate': 'Bearer' } })).toEqual({
      type: 'done',
    });
    expect(events).toContainEqual({
      event: 'session.outside_scope',
      data: { status: 401, url: new URL(url).origin + new URL(url).pathname, reason },
    });
  });

  it('a logger that throws breaks nothing', async () => {
    const server = new FakeServer();
    const session = new OAuthSession({
      serverUrl: server.resourceUrl,
      httpClient: server.http,
      client: { redirectUris: [REDIRECT] },
      authorizationHandler: ({ authorizationUrl }) => server.approve(authorizationUrl),
      clock: () => server.now,
      logger: {
        debug: () => {
          throw new Error('logger down');
        },
        warn: () => {
          throw new Error('logger down');
        },
      },
    });
    const request = await session.beginRequest({ method: 'POST', url: server.resourceUrl });
    const { sends } = await drive(request, (step) => server.resource({ ...step.headers }));
    expect(sends).toHaveLength(2);
  });
});

describe('scope of the credentials', () => {
  it('sends the token only inside the configured server URL, whatever the metadata says the resource is', async () => {
    const { server, session } = await authorized({ resourcePath: '/tenant-a/mcp' });
    const headers = async (url: string) => (await session.beginRequest({ method: 'GET', url })).first.headers;
    expect(await headers(`${SERVER}/tenant-a/mcp/x`)).toHaveProperty('authorization');
    expect(await headers(`${SERVER}/tenant-b/mcp`)).toEqual({});
    expect(await headers(`${SERVER}/admin`)).toEqual({});
    expect(server.resourceUrl).toBe(`${SERVER}/tenant-a/mcp`);
  });
});
