/**
 * The device authorization grant (RFC 8628), for machines where no browser can be opened or no
 * redirect received (SSH sessions, containers, headless servers): the client asks for a device
 * code, shows the user a short code and a URL to open on any other device, and polls the token
 * endpoint until the user has decided.
 *
 * - `buildDeviceAuthorizationRequest` / `parseDeviceAuthorizationResponse`: §3.1 and §3.2 as data;
 * - `readDevicePollResponse`: what one token poll answered (§3.5), as a value;
 * - `pollDeviceAuthorization`: the polling loop over the injected client, with an injectable
 *   sleep and clock so that it can be driven without waiting.
 */
import type { ClientAuthentication } from './client-auth.js';
import { isOAuthClientError, type OAuthClientError, oauthError } from './errors.js';
import { type HttpContext, type OAuthHttpResponse, parseJsonObject, sendRequest } from './http.js';
import {
  type DpopProofSource,
  formRequest,
  oauthErrorResponse,
  parseTokenResponse,
  postTokenRequest,
  readOAuthErrorCode,
} from './token.js';
import type { TokenSet } from './types.js';
import { assertSafeUrl, isLoopbackHost, redactUrl, tryParseUrl } from './url.js';

/** RFC 8628 §3.2: the polling interval when the server names none. */
export const DEFAULT_DEVICE_POLL_INTERVAL_SECONDS = 5;
/** RFC 8628 §3.5: `slow_down` adds this much to the interval, for this and every later poll. */
export const SLOW_DOWN_INCREMENT_SECONDS = 5;
/** `expires_in` values above this (one hour) are capped to it: nobody waits longer for a user. */
export const MAXIMUM_DEVICE_CODE_LIFETIME_SECONDS = 3600;
/** `interval` values above this (five minutes) are capped to it. */
export const MAXIMUM_DEVICE_POLL_INTERVAL_SECONDS = 300;
/** `interval` values below this (one second, `0` included) are raised to it: no tight polling loop. */
export const MINIMUM_DEVICE_POLL_INTERVAL_SECONDS = 1;
/** Consecutive polls lost to the network (or a 5xx) before the flow gives up. */
export const MAXIMUM_DEVICE_POLL_FAILURES = 3;

export interface DeviceAuthorizationInput {
  /** The `device_authorization_endpoint` from the authorization server's metadata. */
  readonly endpoint: string;
  readonly issuer: string;
  /** RFC 8628 §3.1: the client authenticates as at the token endpoint (a public client sends `client_id`). */
  readonly client: ClientAuthentication;
  readonly scopes?: readonly string[] | undefined;
  /** RFC 8707 resource indicator. */
  readonly resource?: string | undefined;
  /** Milliseconds since the epoch. */
  readonly now: number;
  /** Further form parameters; they may not replace a parameter the engine sets. */
  readonly extraParameters?: Readonly<Record<string, string>> | undefined;
}

export interface DeviceAuthorizationRequest {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** What the user needs to see: never the device code. */
export interface DeviceUserCode {
  /** The code the user types at {@link verificationUri}. */
  readonly userCode: string;
  /** Where the user goes, on any device (https, or http on a loopback issuer). */
  readonly verificationUri: string;
  /** The same page with the code filled in, when the server offers one (good for a QR code). */
  readonly verificationUriComplete: string | undefined;
  /** Milliseconds since the epoch after which the code is no longer accepted. */
  readonly expiresAt: number;
}

declare const validated: unique symbol;

/**
 * A validated device authorization response. Only {@link parseDeviceAuthorizationResponse} makes
 * one, and {@link pollDeviceAuthorization} accepts nothing else. `deviceCode` is a credential: it is
 * not an enumerable property, so serialising the object leaves it out.
 */
export interface DeviceAuthorization extends DeviceUserCode {
  readonly deviceCode: string;
  /** The polling interval the server asked for, in milliseconds. */
  readonly intervalMs: number;
  readonly [validated]: true;
}

function requireValue(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw oauthError('invalid_options', `device authorization request "${field}" must be a non-empty string`);
  }
  return value;
}

/** Builds the RFC 8628 §3.1 device authorization request as data. */
export async function buildDeviceAuthorizationRequest(
  input: DeviceAuthorizationInput,
): Promise<DeviceAuthorizationRequest> {
  if (tryParseUrl(input.endpoint) === undefined) {
    throw oauthError('invalid_options', 'device authorization endpoint must be an absolute URL');
  }
  const scope = (input.scopes ?? []).filter((item) => item.length > 0).join(' ');
  return formRequest(
    input.endpoint,
    {
      scope: scope || undefined,
      resource: input.resource === undefined ? undefined : requireValue(input.resource, 'resource'),
    },
    input.client,
    // A private_key_jwt assertion is addressed like one for the token endpoint (issuer by default).
    { issuer: input.issuer, tokenEndpoint: input.endpoint, now: input.now },
    {},
    input.extraParameters,
  );
}

// ---------------------------------------------------------------- the device authorization response

function invalid(message: string, response: OAuthHttpResponse): OAuthClientError {
  return oauthError('device_authorization_failed', message, { status: response.status });
}

/** Control characters (C0, DEL, C1) and the line and paragraph separators, which a terminal may act on. */
function hasUnprintable(value: string): boolean {
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029) return true;
  }
  return false;
}

function readPositiveSeconds(
  body: Record<string, unknown>,
  field: string,
  response: OAuthHttpResponse,
): number | undefined {
  const raw = body[field] === null ? undefined : body[field];
  if (raw === undefined) return undefined;
  let value: number;
  if (typeof raw === 'number') value = raw;
  else if (typeof raw === 'string' && /^\d{1,15}$/.test(raw)) value = Number(raw);
  else value = Number.NaN;
  if (!Number.isFinite(value) || value < 0) {
    throw invalid(`device authorization response "${field}" must be a non-negative number`, response);
  }
  return value;
}

function readVerificationUri(
  body: Record<string, unknown>,
  field: string,
  allowLoopbackHttp: boolean,
  response: OAuthHttpResponse,
): string | undefined {
  const value = body[field] === null ? undefined : body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) {
    throw invalid(`device authorization response "${field}" must be a non-empty string`, response);
  }
  try {
    // The user is sent there: https only (http for a loopback issuer), no credentials, no fragment.
    return assertSafeUrl(value, { what: `device authorization response "${field}"`, allowLoopbackHttp }).href;
  } catch (error) {
    throw invalid(
      isOAuthClientError(error)
        ? error.message
        : `device authorization response "${field}" must be an absolute https URL`,
      response,
    );
  }
}

/**
 * Validates an RFC 8628 §3.2 response field by field.
 * - non-2xx: `device_authorization_failed` with `status` and the server's `error` as `oauthError`
 *   (for example `unauthorized_client` when the client is not registered for this grant);
 * - `device_code`, `user_code` (printable, at most 64 characters): non-empty strings;
 * - `verification_uri` (and the optional `verification_uri_complete`): https URLs;
 * - `expires_in`: a positive number of seconds (capped at one hour);
 * - `interval`: absent means 5 s (kept between one second and five minutes).
 */
export function parseDeviceAuthorizationResponse(
  response: OAuthHttpResponse,
  options: { readonly now: number; readonly issuer: string },
): DeviceAuthorization {
  if (response.status < 200 || response.status >= 300) {
    const error = oauthErrorResponse('token_request_failed', 'device authorization request', response);
    throw oauthError('device_authorization_failed', error.message, {
      status: response.status,
      oauthError: error.oauthError,
    });
  }
  const body = parseJsonObject(response, 'device authorization response', 'device_authorization_failed');
  const deviceCode = body.device_code;
  if (typeof deviceCode !== 'string' || deviceCode.length === 0) {
    throw invalid('device authorization response "device_code" must be a non-empty string', response);
  }
  const userCode = body.user_code;
  if (typeof userCode !== 'string' || userCode.trim().length === 0) {
    throw invalid('device authorization response "user_code" must be a non-empty string', response);
  }
  if (userCode.length > 64 || hasUnprintable(userCode)) {
    throw invalid(
      'device authorization response "user_code" must be at most 64 printable characters',
      response,
    );
  }
  const issuerUrl = tryParseUrl(options.issuer);
  const allowLoopbackHttp =
    issuerUrl !== undefined && issuerUrl.protocol === 'http:' && isLoopbackHost(issuerUrl.hostname);
  const verificationUri = readVerificationUri(body, 'verification_uri', allowLoopbackHttp, response);
  if (verificationUri === undefined) {
    throw invalid('device authorization response "verification_uri" must be a non-empty string', response);
  }
  const verificationUriComplete = readVerificationUri(
    body,
    'verification_uri_complete',
    allowLoopbackHttp,
    response,
  );
  const expiresIn = readPositiveSeconds(body, 'expires_in', response);
  if (expiresIn === undefined || expiresIn === 0) {
    throw invalid('device authorization response "expires_in" must be a positive number', response);
  }
  const interval = readPositiveSeconds(body, 'interval', response) ?? DEFAULT_DEVICE_POLL_INTERVAL_SECONDS;
  const authorization = {
    userCode,
    verificationUri,
    verificationUriComplete,
    expiresAt: options.now + Math.round(Math.min(expiresIn, MAXIMUM_DEVICE_CODE_LIFETIME_SECONDS) * 1000),
    intervalMs: Math.round(
      Math.min(
        Math.max(interval, MINIMUM_DEVICE_POLL_INTERVAL_SECONDS),
        MAXIMUM_DEVICE_POLL_INTERVAL_SECONDS,
      ) * 1000,
    ),
  };
  Object.defineProperty(authorization, 'deviceCode', { value: deviceCode, enumerable: false });
  return authorization as unknown as DeviceAuthorization;
}

/** The user-facing part of a device authorization (no device code, no interval). */
export function toDeviceUserCode(authorization: DeviceAuthorization): DeviceUserCode {
  return {
    userCode: authorization.userCode,
    verificationUri: authorization.verificationUri,
    verificationUriComplete: authorization.verificationUriComplete,
    expiresAt: authorization.expiresAt,
  };
}

/** Sends the device authorization request (redirects refused) and validates the answer. */
export async function requestDeviceAuthorization(
  context: HttpContext,
  input: DeviceAuthorizationInput & { readonly signal?: AbortSignal | undefined },
): Promise<DeviceAuthorization> {
  const request = await buildDeviceAuthorizationRequest(input);
  context.logger.debug('device.authorization_request', { endpoint: redactUrl(request.url) });
  const response = await sendRequest(context, {
    method: 'POST',
    url: request.url,
    headers: request.headers,
    body: request.body,
    redirect: 'never',
    signal: input.signal,
  });
  const authorization = parseDeviceAuthorizationResponse(response, { now: input.now, issuer: input.issuer });
  context.logger.debug('device.authorization_issued', {
    expiresInSeconds: Math.round((authorization.expiresAt - input.now) / 1000),
    intervalSeconds: authorization.intervalMs / 1000,
    verificationUri: redactUrl(authorization.verificationUri),
  });
  return authorization;
}

// ---------------------------------------------------------------- polling

/** What one poll of the token endpoint said (RFC 8628 §3.5). */
export type DevicePollResult =
  | { readonly type: 'pending' }
  | { readonly type: 'slow_down' }
  | { readonly type: 'tokens'; readonly tokens: TokenSet };

export interface DevicePollExpectations {
  /** Milliseconds since the epoch when the poll was sent. */
  readonly now: number;
  readonly requestedScopes: readonly string[];
  /** Whether the poll carried a DPoP proof. */
  readonly dpop: boolean;
}

/**
 * The `error` of an error answer. RFC 8628 §3.5 answers with RFC 6749 §5.2 errors (HTTP 400); a
 * 2xx body with an `error` and no `access_token` (as GitHub sends) counts as one too.
 */
function pollError(response: OAuthHttpResponse): string | undefined {
  const error = readOAuthErrorCode(response);
  if (error === undefined) return undefined;
  if (response.status >= 200 && response.status < 300) {
    try {
      const body = JSON.parse(response.body) as Record<string, unknown>;
      if (typeof body.access_token === 'string') return undefined;
    } catch {
      return undefined;
    }
  }
  return error;
}

/**
 * Reads one poll's response: `pending` (`authorization_pending`), `slow_down`, or the tokens
 * (validated as any token response). `access_denied` throws `authorization_denied`,
 * `expired_token` throws `device_code_expired`; any other failure is `token_request_failed` or
 * `token_response_invalid` as for any token request.
 */
export function readDevicePollResponse(
  response: OAuthHttpResponse,
  expectations: DevicePollExpectations,
): DevicePollResult {
  const error = response.status < 500 ? pollError(response) : undefined;
  switch (error) {
    case 'authorization_pending':
      return { type: 'pending' };
    case 'slow_down':
      return { type: 'slow_down' };
    case 'access_denied':
      throw oauthError('authorization_denied', 'the user denied the device authorization', {
        status: response.status,
        oauthError: error,
      });
    case 'expired_token':
      throw oauthError('device_code_expired', 'the device code expired before the user authorized it', {
        status: response.status,
        oauthError: error,
      });
  }
  if (error !== undefined && response.status >= 200 && response.status < 300) {
    throw oauthError('token_request_failed', `device access token request failed (${error})`, {
      status: response.status,
      oauthError: error,
    });
  }
  return {
    type: 'tokens',
    tokens: parseTokenResponse(response, { ...expectations, grant: 'device_code' }),
  };
}

/** Waits `ms` milliseconds, or rejects with `aborted` as soon as `signal` aborts. */
export type DeviceSleep = (ms: number, signal: AbortSignal | undefined) => Promise<void>;

export interface DevicePollOptions {
  readonly authorization: DeviceAuthorization;
  readonly tokenEndpoint: string;
  readonly issuer: string;
  readonly client: ClientAuthentication;
  /** RFC 8707 resource indicator (sent on each poll, as on any token request). */
  readonly resource?: string | undefined;
  readonly requestedScopes: readonly string[];
  readonly dpop?: DpopProofSource | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Milliseconds since the epoch. Default `Date.now`. */
  readonly clock?: (() => number) | undefined;
  /** Default: a timer that stops at once when `signal` aborts. */
  readonly sleep?: DeviceSleep | undefined;
}

export const defaultDeviceSleep: DeviceSleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(oauthError('aborted', 'the device authorization was aborted'));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(oauthError('aborted', 'the device authorization was aborted'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

function isTransient(error: unknown): boolean {
  return isOAuthClientError(error, 'network_error') || isOAuthClientError(error, 'timeout');
}

function expired(): OAuthClientError {
  return oauthError('device_code_expired', 'the device code expired before the user authorized it');
}

/**
 * Polls the token endpoint with the device code until the user decides (RFC 8628 §3.4, §3.5):
 * waits `interval` before each poll, adds 5 s on `slow_down`, and gives up with
 * `device_code_expired` once `expires_in` has passed. A poll lost to the network, a timeout or a
 * 5xx doubles the interval (§3.5); {@link MAXIMUM_DEVICE_POLL_FAILURES} in a row end the flow with
 * that error. Aborting `signal` stops the wait at once (`aborted`).
 */
export async function pollDeviceAuthorization(
  context: HttpContext,
  options: DevicePollOptions,
): Promise<TokenSet> {
  const { authorization, signal } = options;
  const clock = options.clock ?? Date.now;
  const sleep = options.sleep ?? defaultDeviceSleep;
  const deviceCode = authorization.deviceCode;
  if (typeof deviceCode !== 'string' || deviceCode.length === 0) {
    throw oauthError('invalid_options', 'pollDeviceAuthorization needs a parsed device authorization');
  }
  let intervalMs = Math.max(authorization.intervalMs, MINIMUM_DEVICE_POLL_INTERVAL_SECONDS * 1000);
  let failures = 0;
  for (let poll = 0; ; poll++) {
    if (signal?.aborted) throw oauthError('aborted', 'the device authorization was aborted');
    const remaining = authorization.expiresAt - clock();
    if (remaining <= 0) throw expired();
    // Never sleep past the expiry: the last wait ends when the code does.
    await sleep(Math.min(intervalMs, remaining), signal);
    if (clock() >= authorization.expiresAt) throw expired();
    const now = clock();
    let response: OAuthHttpResponse;
    try {
      response = await postTokenRequest(context, {
        tokenEndpoint: options.tokenEndpoint,
        issuer: options.issuer,
        grant: { type: 'device_code', deviceCode },
        resource: options.resource,
        client: options.client,
        now,
        dpop: options.dpop,
        signal,
      });
    } catch (error) {
      if (!isTransient(error) || ++failures >= MAXIMUM_DEVICE_POLL_FAILURES) throw error;
      intervalMs *= 2;
      context.logger.debug('device.poll_failed', { code: (error as OAuthClientError).code, intervalMs });
      continue;
    }
    if (response.status >= 500) {
      if (++failures >= MAXIMUM_DEVICE_POLL_FAILURES) {
        throw oauthErrorResponse('token_request_failed', 'device access token request', response);
      }
      intervalMs *= 2;
      context.logger.debug('device.poll_failed', { status: response.status, intervalMs });
      continue;
    }
    failures = 0;
    const result = readDevicePollResponse(response, {
      now,
      requestedScopes: options.requestedScopes,
      dpop: options.dpop !== undefined,
    });
    if (result.type === 'tokens') {
      context.logger.debug('device.authorized', { polls: poll + 1 });
      return result.tokens;
    }
    if (result.type === 'slow_down') {
      intervalMs += SLOW_DOWN_INCREMENT_SECONDS * 1000;
      context.logger.debug('device.slow_down', { intervalMs });
    } else {
      context.logger.debug('device.pending', { poll: poll + 1 });
    }
  }
}
