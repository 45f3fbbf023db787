/**
 * Polling the token endpoint with a device code (RFC 8628 §3.4, §3.5) until the user decides:
 * `readDevicePollResponse` reads what one poll answered as a value, and `pollDeviceAuthorization`
 * is the loop over the injected client, with an injectable sleep and clock so that it can be
 * driven without waiting. The device authorization itself is in `device.ts`.
 */
import type { ClientAuthentication } from './client-auth.js';
import { type DeviceAuthorization, MINIMUM_DEVICE_POLL_INTERVAL_SECONDS } from './device.js';
import { isOAuthClientError, type OAuthClientError, oauthError } from './errors.js';
import type { HttpContext, OAuthHttpResponse } from './http.js';
import { type DpopProofSource, postTokenRequest } from './token.js';
import { oauthErrorResponse, parseTokenResponse, readOAuthErrorCode } from './token-response.js';
import type { TokenSet } from './types.js';

/** Consecutive polls lost to the network (or a 5xx) before the flow gives up. */
export const MAXIMUM_DEVICE_POLL_FAILURES = 3;
/** RFC 8628 §3.5: `slow_down` adds this much to the interval, for this and every later poll. */
export const SLOW_DOWN_INCREMENT_SECONDS = 5;
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
