/** The device authorization (RFC 8628) the device tests start from. */
import { type DeviceAuthorization, parseDeviceAuthorizationResponse } from '../device.js';
import { createHttpContext } from '../http.js';
import type { OAuthLogger } from '../logger.js';
import { json } from './errors.js';
import { FakeHttpClient } from './fake-http.js';

export const ISSUER = 'https://as.example.com';
export const RESOURCE = 'https://mcp.example.com/mcp';
export const NOW = 1_700_000_000_000;
export const DEVICE_CODE = 'SECRET-device-code';

/** RFC 8628 §3.2's example response, with a device code the secrecy checks look for. */
export const issued = {
  device_code: DEVICE_CODE,
  user_code: 'WDJB-MJHT',
  verification_uri: 'https://as.example.com/device',
  verification_uri_complete: 'https://as.example.com/device?user_code=WDJB-MJHT',
  expires_in: 600,
};

export function authorizationFrom(body: Record<string, unknown>, now = NOW): DeviceAuthorization {
  return parseDeviceAuthorizationResponse(json(body), { now, issuer: ISSUER });
}

/** A fake HTTP client and a context over it whose logger records each line as `event {data}`. */
export function setup() {
  const http = new FakeHttpClient();
  const lines: string[] = [];
  const record = (event: string, data?: object) => lines.push(`${event} ${JSON.stringify(data ?? {})}`);
  const logger: OAuthLogger = { debug: record, warn: record };
  return { http, lines, context: createHttpContext(http, { logger }) };
}
