/**
 * The device authorization grant (RFC 8628), opt in: `new OAuthSession({ …, grant: deviceCode({ onUserCode }) })`
 * for SSH sessions, containers and other machines where no browser can be opened.
 */
export type { DeviceUserCode } from '../device.js';
export type { DeviceSleep } from '../device-poll.js';
export { type DeviceCodeGrantOptions, type DeviceCodePrompt, deviceCode } from '../session/device-code.js';
