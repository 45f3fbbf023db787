/** The device authorization (RFC 8628) the device tests start from. */
import { type DeviceAuthorization, parseDeviceAuthorizationResponse } from '../device.js';
import { json } from './errors.js';

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
