import { describe, expect, it } from 'vitest';
import {
  buildDeviceAuthorizationRequest,
  parseDeviceAuthorizationResponse,
  requestDeviceAuthorization,
  toDeviceUserCode,
} from './device.js';
import { authorizationFrom, DEVICE_CODE, ISSUER, issued, NOW, RESOURCE, setup } from './test-utils/device.js';
import { catchAsync, catchError, expectNoSecret, json } from './test-utils/errors.js';

const DEVICE_ENDPOINT = 'https://as.example.com/device/auth';

describe('the device authorization request (RFC 8628 §3.1)', () => {
  it('sends client_id, scope and resource as a form POST and reads the response', async () => {
    const { http, context, lines } = setup();
    http.json('POST', DEVICE_ENDPOINT, issued);
    const authorization = await requestDeviceAuthorization(context, {
      endpoint: DEVICE_ENDPOINT,
      issuer: ISSUER,
      client: { clientId: 'client-1', method: 'none' },
      scopes: ['mcp:tools', 'offline_access'],
      resource: RESOURCE,
      now: NOW,
    });
    expect(http.requests).toEqual([
      {
        method: 'POST',
        url: DEVICE_ENDPOINT,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: expect.any(String),
        form: { scope: 'mcp:tools offline_access', resource: RESOURCE, client_id: 'client-1' },
      },
    ]);
    expect(authorization.deviceCode).toBe(DEVICE_CODE);
    expect(toDeviceUserCode(authorization)).toEqual({
      userCode: 'WDJB-MJHT',
      verificationUri: 'https://as.example.com/device',
      verificationUriComplete: 'https://as.example.com/device?user_code=WDJB-MJHT',
      expiresAt: NOW + 600_000,
    });
    expect(authorization.intervalMs).toBe(5000);
    expect(lines.join('\n')).not.toContain('SECRET');
    expect(lines.join('\n')).not.toContain('WDJB');
  });

  it('authenticates a confidential client with HTTP Basic and sends no scope when there is none', async () => {
    const request = await buildDeviceAuthorizationRequest({
      endpoint: DEVICE_ENDPOINT,
      issuer: ISSUER,
      client: { clientId: 'c', method: 'client_secret_basic', clientSecret: 's' },
      now: NOW,
    });
    expect(request).toEqual({
      url: DEVICE_ENDPOINT,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        authorization: `Basic ${btoa('c:s')}`,
      },
      body: '',
    });
  });

  it('refuses extra parameters that would replace one the engine sets', async () => {
    const error = await catchAsync(
      buildDeviceAuthorizationRequest({
        endpoint: DEVICE_ENDPOINT,
        issuer: ISSUER,
        client: { clientId: 'c', method: 'none' },
        resource: RESOURCE,
        now: NOW,
        extraParameters: { resource: 'https://other.example' },
      }),
    );
    expect(error.code).toBe('invalid_options');
  });

  it('refuses a redirect from the device authorization endpoint', async () => {
    const { http, context } = setup();
    http.on('POST', DEVICE_ENDPOINT, { status: 307, headers: { location: `${ISSUER}/elsewhere` } });
    const error = await catchAsync(
      requestDeviceAuthorization(context, {
        endpoint: DEVICE_ENDPOINT,
        issuer: ISSUER,
        client: { clientId: 'c', method: 'none' },
        now: NOW,
      }),
    );
    expect(error.code).toBe('redirect_not_allowed');
    expect(http.requests).toHaveLength(1);
  });
});

describe('parseDeviceAuthorizationResponse (RFC 8628 §3.2)', () => {
  it('keeps the device code off the enumerable properties', () => {
    const authorization = authorizationFrom(issued);
    expect(authorization.deviceCode).toBe(DEVICE_CODE);
    expectNoSecret(authorization);
  });

  it.each([
    ['interval absent', {}, 5000, NOW + 600_000],
    ['interval 2', { interval: 2 }, 2000, NOW + 600_000],
    ['interval as a digit string', { interval: '3' }, 3000, NOW + 600_000],
    ['interval 0 (raised to one second)', { interval: 0 }, 1000, NOW + 600_000],
    ['interval of an hour (capped at five minutes)', { interval: 3600 }, 300_000, NOW + 600_000],
    ['expires_in of a day (capped at an hour)', { expires_in: 86_400 }, 5000, NOW + 3_600_000],
    ['null verification_uri_complete', { verification_uri_complete: null }, 5000, NOW + 600_000],
  ])('reads %s', (_name, overrides, intervalMs, expiresAt) => {
    const authorization = authorizationFrom({ ...issued, ...overrides });
    expect(authorization.intervalMs).toBe(intervalMs);
    expect(authorization.expiresAt).toBe(expiresAt);
  });

  it.each([
    [
      'device_code missing',
      { device_code: undefined },
      'device authorization response "device_code" must be a non-empty string',
    ],
    [
      'device_code a number',
      { device_code: 42 },
      'device authorization response "device_code" must be a non-empty string',
    ],
    [
      'user_code empty',
      { user_code: ' ' },
      'device authorization response "user_code" must be a non-empty string',
    ],
    [
      'user_code with a terminal escape',
      { user_code: 'AB\u001b]0;pwned\u0007' },
      'device authorization response "user_code" must be at most 64 printable characters',
    ],
    [
      'user_code too long',
      { user_code: 'A'.repeat(65) },
      'device authorization response "user_code" must be at most 64 printable characters',
    ],
    [
      'verification_uri missing',
      { verification_uri: undefined },
      'device authorization response "verification_uri" must be a non-empty string',
    ],
    [
      'verification_uri relative',
      { verification_uri: '/device' },
      'device authorization response "verification_uri" must be an absolute URL',
    ],
    [
      'verification_uri over http',
      { verification_uri: 'http://as.example.com/device' },
      'device authorization response "verification_uri" must use https (http is allowed only for loopback)',
    ],
    [
      'verification_uri javascript:',
      { verification_uri: 'javascript:alert(1)' },
      'device authorization response "verification_uri" must use https',
    ],
    [
      'verification_uri_complete with credentials',
      { verification_uri_complete: 'https://u:p@as.example.com/d' },
      'device authorization response "verification_uri_complete" must not contain credentials',
    ],
    [
      'expires_in missing',
      { expires_in: undefined },
      'device authorization response "expires_in" must be a positive number',
    ],
    [
      'expires_in 0',
      { expires_in: 0 },
      'device authorization response "expires_in" must be a positive number',
    ],
    [
      'expires_in negative',
      { expires_in: -1 },
      'device authorization response "expires_in" must be a non-negative number',
    ],
    [
      'interval a word',
      { interval: 'soon' },
      'device authorization response "interval" must be a non-negative number',
    ],
  ])('refuses %s with device_authorization_failed', (_name, overrides, message) => {
    const error = catchError(() => authorizationFrom({ ...issued, ...overrides }));
    expect(error.code).toBe('device_authorization_failed');
    expect(error.message).toBe(message);
    expectNoSecret(error);
  });

  it('allows http verification URIs for a loopback issuer only', () => {
    const local = parseDeviceAuthorizationResponse(
      json({
        ...issued,
        verification_uri: 'http://127.0.0.1:4000/device',
        verification_uri_complete: undefined,
      }),
      { now: NOW, issuer: 'http://127.0.0.1:4000' },
    );
    expect(local.verificationUri).toBe('http://127.0.0.1:4000/device');
    expect(local.verificationUriComplete).toBeUndefined();
  });

  it('refuses a body that is not a JSON object', () => {
    for (const response of [
      { status: 200, headers: { 'content-type': 'text/html' }, body: '<p>SECRET</p>' },
      { status: 200, headers: {}, body: 'not json SECRET' },
      json([issued]),
    ]) {
      const error = catchError(() =>
        parseDeviceAuthorizationResponse(response, { now: NOW, issuer: ISSUER }),
      );
      expect(error.code).toBe('device_authorization_failed');
      expectNoSecret(error);
    }
  });

  it('maps an error answer to device_authorization_failed with the OAuth error and without the description', () => {
    const error = catchError(() =>
      parseDeviceAuthorizationResponse(
        json({ error: 'unauthorized_client', error_description: 'SECRET details' }, 400),
        { now: NOW, issuer: ISSUER },
      ),
    );
    expect(error.code).toBe('device_authorization_failed');
    expect(error.oauthError).toBe('unauthorized_client');
    expect(error.status).toBe(400);
    expect(error.message).toBe(
      'device authorization request failed with HTTP status 400 (unauthorized_client)',
    );
    expectNoSecret(error);
  });
});
