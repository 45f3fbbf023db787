/**
 * The device authorization grant (RFC 8628), for machines where no browser can be opened or no
 * redirect received (SSH sessions, containers, headless servers): the client asks for a device
 * code, shows the user a short code and a URL to open on any other device, and polls the token
 * endpoint until the user has decided.
 *
 * This file holds the device authorization request and response (§3.1, §3.2):
 * `buildDeviceAuthorizationRequest` / `parseDeviceAuthorizationResponse` as data, and
 * `requestDeviceAuthorization` over the injected client. Polling the token endpoint (§3.4, §3.5)
 * is in `device-poll.ts`.
 */
import type { ClientAuthentication } from './client-auth.js';
import { isOAuthClientError, type OAuthClientError, oauthError } from './errors.js';
import { type HttpContext, type OAuthHttpResponse, parseJsonObject, sendRequest } from './http.js';
import { formRequest } from './token.js';
import { oauthErrorResponse } from './token-response.js';
import { assertSafeUrl, isLoopbackHost, redactUrl, tryParseUrl } from './url.js';

/** RFC 8628 §3.2: the polling interval when the server names none. */
export const DEFAULT_DEVICE_POLL_INTERVAL_SECONDS = 5;
/** `expires_in` values above this (one hour) are capped to it: nobody waits longer for a user. */
export const MAXIMUM_DEVICE_CODE_LIFETIME_SECONDS = 3600;
/** `interval` values above this (five minutes) are capped to it. */
export const MAXIMUM_DEVICE_POLL_INTERVAL_SECONDS = 300;
/** `interval` values below this (one second, `0` included) are raised to it: no tight polling loop. */
export const MINIMUM_DEVICE_POLL_INTERVAL_SECONDS = 1;

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
