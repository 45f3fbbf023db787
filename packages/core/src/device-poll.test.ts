import { describe, expect, it } from 'vitest';
import type { DeviceAuthorization } from './device.js';
import {
  type DeviceSleep,
  defaultDeviceSleep,
  pollDeviceAuthorization,
  readDevicePollResponse,
} from './device-poll.js';
import { authorizationFrom, DEVICE_CODE, ISSUER, issued, NOW, RESOURCE, setup } from './test-utils/device.js';
import { catchAsync, catchError, expectNoSecret, json } from './test-utils/errors.js';
import { GRANT_TYPE_DEVICE_CODE } from './token.js';

const TOKEN_ENDPOINT = 'https://as.example.com/token';

/** A clock that only moves when the flow sleeps, and a record of every wait. */
function fakeTime(start = NOW) {
  let now = start;
  const waits: number[] = [];
  const sleep: DeviceSleep = async (ms, signal) => {
    if (signal?.aborted) throw new Error('sleep called with an aborted signal');
    waits.push(ms);
    now += ms;
  };
  return { clock: () => now, sleep, waits, advance: (ms: number) => (now += ms) };
}

const tokens = {
  access_token: 'SECRET-access',
  token_type: 'Bearer',
  expires_in: 60,
  refresh_token: 'SECRET-r',
};
const pending = json({ error: 'authorization_pending' }, 400);
const slowDown = json({ error: 'slow_down' }, 400);

function pollOptions(authorization: DeviceAuthorization, time: ReturnType<typeof fakeTime>) {
  return {
    authorization,
    tokenEndpoint: TOKEN_ENDPOINT,
    issuer: ISSUER,
    client: { clientId: 'client-1', method: 'none' as const },
    resource: RESOURCE,
    requestedScopes: ['mcp:tools'],
    clock: time.clock,
    sleep: time.sleep,
  };
}

describe('readDevicePollResponse (RFC 8628 §3.5)', () => {
  const expectations = { now: NOW, requestedScopes: ['mcp:tools'], dpop: false };

  it.each([
    ['authorization_pending', pending, 'pending'],
    ['slow_down', slowDown, 'slow_down'],
    [
      'a 200 with authorization_pending (as GitHub answers)',
      json({ error: 'authorization_pending' }),
      'pending',
    ],
  ])('reads %s', (_name, response, type) => {
    expect(readDevicePollResponse(response, expectations).type).toBe(type);
  });

  it('reads the tokens', () => {
    const result = readDevicePollResponse(json(tokens), expectations);
    expect(result).toEqual({
      type: 'tokens',
      tokens: {
        accessToken: 'SECRET-access',
        tokenType: 'Bearer',
        expiresAt: NOW + 60_000,
        refreshToken: 'SECRET-r',
        grantedScopes: ['mcp:tools'],
        requestedScopes: ['mcp:tools'],
        issuedAt: NOW,
      },
    });
  });

  it.each([
    [
      'access_denied',
      json({ error: 'access_denied', error_description: 'SECRET' }, 400),
      'authorization_denied',
    ],
    ['expired_token', json({ error: 'expired_token' }, 400), 'device_code_expired'],
    ['invalid_grant', json({ error: 'invalid_grant' }, 400), 'token_request_failed'],
    ['a 200 with another error', json({ error: 'invalid_client' }), 'token_request_failed'],
    [
      'a 500 saying authorization_pending',
      json({ error: 'authorization_pending' }, 500),
      'token_request_failed',
    ],
    ['a 200 without a token', json({ token_type: 'Bearer' }), 'token_response_invalid'],
  ])('maps %s to %s', (_name, response, code) => {
    const error = catchError(() => readDevicePollResponse(response, expectations));
    expect(error.code).toBe(code);
    expectNoSecret(error);
  });
});

describe('pollDeviceAuthorization', () => {
  it('waits the interval before each poll and sends the device code grant until the user approves', async () => {
    const { http, context } = setup();
    http.on('POST', TOKEN_ENDPOINT, pending, pending, json(tokens));
    const time = fakeTime();
    const result = await pollDeviceAuthorization(context, pollOptions(authorizationFrom(issued), time));
    expect(result.accessToken).toBe('SECRET-access');
    expect(result.issuedAt).toBe(NOW + 15_000);
    expect(time.waits).toEqual([5000, 5000, 5000]);
    expect(http.requests.map((request) => request.form)).toEqual(
      Array(3).fill({
        grant_type: GRANT_TYPE_DEVICE_CODE,
        device_code: DEVICE_CODE,
        resource: RESOURCE,
        client_id: 'client-1',
      }),
    );
    expect(http.requests.every((request) => request.url === TOKEN_ENDPOINT)).toBe(true);
  });

  it('adds five seconds to the interval on every slow_down, for every later poll', async () => {
    const { http, context } = setup();
    http.on('POST', TOKEN_ENDPOINT, pending, slowDown, pending, slowDown, pending, json(tokens));
    const time = fakeTime();
    await pollDeviceAuthorization(context, pollOptions(authorizationFrom({ ...issued, interval: 2 }), time));
    expect(time.waits).toEqual([2000, 2000, 7000, 7000, 12_000, 12_000]);
  });

  it('ends with authorization_denied when the user denies', async () => {
    const { http, context } = setup();
    http.on('POST', TOKEN_ENDPOINT, pending, json({ error: 'access_denied' }, 400));
    const error = await catchAsync(
      pollDeviceAuthorization(context, pollOptions(authorizationFrom(issued), fakeTime())),
    );
    expect(error.code).toBe('authorization_denied');
    expect(error.oauthError).toBe('access_denied');
    expect(http.requests).toHaveLength(2);
  });

  it('ends with device_code_expired when the server says expired_token', async () => {
    const { http, context } = setup();
    http.on('POST', TOKEN_ENDPOINT, json({ error: 'expired_token' }, 400));
    const error = await catchAsync(
      pollDeviceAuthorization(context, pollOptions(authorizationFrom(issued), fakeTime())),
    );
    expect(error.code).toBe('device_code_expired');
    expect(http.requests).toHaveLength(1);
  });

  it('stops polling when expires_in has passed, without a request after it', async () => {
    const { http, context } = setup();
    http.on('POST', TOKEN_ENDPOINT, pending);
    const time = fakeTime();
    const error = await catchAsync(
      pollDeviceAuthorization(context, pollOptions(authorizationFrom({ ...issued, expires_in: 12 }), time)),
    );
    expect(error.code).toBe('device_code_expired');
    expect(time.waits).toEqual([5000, 5000, 2000]);
    expect(http.requests).toHaveLength(2);
  });

  it('refuses an authorization that already expired before polling once', async () => {
    const { http, context } = setup();
    const time = fakeTime(NOW + 601_000);
    const error = await catchAsync(
      pollDeviceAuthorization(context, pollOptions(authorizationFrom(issued), time)),
    );
    expect(error.code).toBe('device_code_expired');
    expect(http.requests).toHaveLength(0);
    expect(time.waits).toEqual([]);
  });

  it('backs off exponentially after a lost poll and gives up after three in a row', async () => {
    const { http, context } = setup();
    const lost = () => {
      throw new Error('ECONNRESET SECRET');
    };
    http.on('POST', TOKEN_ENDPOINT, lost, lost, pending, lost, lost, lost);
    const time = fakeTime();
    const error = await catchAsync(
      pollDeviceAuthorization(context, pollOptions(authorizationFrom(issued), time)),
    );
    expect(error.code).toBe('network_error');
    expect(time.waits).toEqual([5000, 10_000, 20_000, 20_000, 40_000, 80_000]);
    expect(http.requests).toHaveLength(6);
    expectNoSecret(error);
  });

  it('treats a 5xx like a lost poll and reports it after three', async () => {
    const { http, context } = setup();
    const unavailable = json({ error: 'temporarily_unavailable' }, 503);
    http.on('POST', TOKEN_ENDPOINT, unavailable, unavailable, unavailable);
    const time = fakeTime();
    const error = await catchAsync(
      pollDeviceAuthorization(context, pollOptions(authorizationFrom(issued), time)),
    );
    expect(error.code).toBe('token_request_failed');
    expect(error.status).toBe(503);
    expect(time.waits).toEqual([5000, 10_000, 20_000]);
  });

  it('stops waiting as soon as the signal aborts, and sends nothing more', async () => {
    const { http, context } = setup();
    http.on('POST', TOKEN_ENDPOINT, pending);
    const controller = new AbortController();
    const waiting = pollDeviceAuthorization(context, {
      ...pollOptions(authorizationFrom({ ...issued, interval: 300 }), fakeTime()),
      clock: () => NOW,
      sleep: defaultDeviceSleep,
      signal: controller.signal,
    });
    controller.abort();
    const error = await catchAsync(waiting);
    expect(error.code).toBe('aborted');
    expect(http.requests).toHaveLength(0);
  });

  it('sends a fresh DPoP proof with every poll', async () => {
    const { http, context } = setup();
    http.on('POST', TOKEN_ENDPOINT, pending, json({ ...tokens, token_type: 'DPoP' }));
    let proofs = 0;
    const result = await pollDeviceAuthorization(context, {
      ...pollOptions(authorizationFrom(issued), fakeTime()),
      dpop: { proof: async () => `proof-${++proofs}`, retry: () => false },
    });
    expect(result.tokenType).toBe('DPoP');
    expect(http.requests.map((request) => request.headers.dpop)).toEqual(['proof-1', 'proof-2']);
  });

  it('refuses an authorization that did not come from parseDeviceAuthorizationResponse', async () => {
    const { context } = setup();
    const forged = JSON.parse(JSON.stringify(authorizationFrom(issued))) as DeviceAuthorization;
    const error = await catchAsync(pollDeviceAuthorization(context, pollOptions(forged, fakeTime())));
    expect(error.code).toBe('invalid_options');
  });

  it('logs each step without the device code, the tokens or the user code', async () => {
    const { http, context, lines } = setup();
    http.on('POST', TOKEN_ENDPOINT, pending, slowDown, json(tokens));
    await pollDeviceAuthorization(context, pollOptions(authorizationFrom(issued), fakeTime()));
    const log = lines.join('\n');
    expect(log).toContain('device.pending');
    expect(log).toContain('device.slow_down');
    expect(log).toContain('device.authorized');
    expect(log).not.toContain('SECRET');
    expect(log).not.toContain('WDJB');
  });
});
