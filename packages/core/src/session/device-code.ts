/**
 * The device authorization grant (RFC 8628) as a grant strategy: for SSH sessions, containers and
 * other machines where no browser can be opened on the same host. The user is shown a short code
 * and a URL to open on any device; the session polls until they decide. The protocol itself is in
 * `../device.ts`. Opt in: `grant: deviceCode({ onUserCode })` from `@mcp-oauth/core/device`, so an
 * application that does not use it ships none of it.
 */
import { type DeviceUserCode, requestDeviceAuthorization, toDeviceUserCode } from '../device.js';
import { type DeviceSleep, pollDeviceAuthorization } from '../device-poll.js';
import { invalidOption, oauthError } from '../errors.js';
import { GRANT_TYPE_DEVICE_CODE } from '../token.js';
import { clientAuthentication } from './binding.js';
import type { GrantStrategy, ModuleGrant } from './grants.js';
import { storeTokens } from './renewal.js';
import { abortable } from './signals.js';

/** What `onUserCode` receives: what to show the user (never the device code), and the flow's signal. */
export interface DeviceCodePrompt extends DeviceUserCode {
  /** The scopes the code asks for. */
  readonly scopes: readonly string[];
  readonly signal: AbortSignal | undefined;
}

export interface DeviceCodeGrantOptions {
  /**
   * Shows the user the code and where to enter it (print it, draw a QR code of
   * `verificationUriComplete`, …). Called once per authorization, before polling starts; the
   * session polls while it runs, and a rejection ends the authorization with that error.
   */
  readonly onUserCode: (prompt: DeviceCodePrompt) => void | Promise<void>;
  /**
   * Waits between polls. Default: a timer that stops when the signal aborts. With `clock`,
   * tests drive the polling without waiting.
   */
  readonly sleep?: DeviceSleep;
}

/** The device authorization grant for a session's `grant` option. */
export function deviceCode(options: DeviceCodeGrantOptions): ModuleGrant<'device_code'> {
  if (typeof options?.onUserCode !== 'function') {
    throw invalidOption('onUserCode', 'must be a function for the device authorization grant');
  }
  if (options.sleep !== undefined && typeof options.sleep !== 'function') {
    throw invalidOption('sleep', 'must be a function');
  }
  return { type: 'device_code', strategy: deviceCodeStrategy(options) };
}

function deviceCodeStrategy(options: DeviceCodeGrantOptions): GrantStrategy {
  return {
    interactive: true,
    grantTypes(metadata) {
      const supported = metadata.grant_types_supported;
      return supported === undefined || supported.includes('refresh_token')
        ? [GRANT_TYPE_DEVICE_CODE, 'refresh_token']
        : [GRANT_TYPE_DEVICE_CODE];
    },
    async obtain(state, binding, scopes, signal) {
      const metadata = binding.discovery.authorizationServerMetadata;
      const endpoint = metadata.device_authorization_endpoint;
      if (endpoint === undefined) {
        throw oauthError(
          'device_flow_unsupported',
          'the authorization server offers no device authorization endpoint (RFC 8628)',
        );
      }
      if (metadata.token_endpoint === undefined) {
        throw oauthError('metadata_invalid', 'authorization server metadata has no "token_endpoint"');
      }
      const client = await clientAuthentication(state, binding.client);
      if (client === undefined) {
        throw oauthError('invalid_options', 'the device authorization grant needs a client identity');
      }
      const authorization = await requestDeviceAuthorization(state.http, {
        endpoint,
        issuer: binding.discovery.issuer,
        client,
        scopes,
        resource: binding.discovery.resource,
        now: state.now(),
        signal: signal,
      });
      state.logger.debug('session.authorization_started', {
        issuer: binding.discovery.issuer,
        scopes,
      });
      await abortable(
        Promise.resolve().then(() =>
          options.onUserCode({ ...toDeviceUserCode(authorization), scopes, signal: signal }),
        ),
        signal,
      );
      const dpopKey = await state.dpop?.keyFor(metadata, state.tokens?.dpopKey);
      const tokens = await pollDeviceAuthorization(state.http, {
        authorization,
        tokenEndpoint: metadata.token_endpoint,
        issuer: binding.discovery.issuer,
        client,
        resource: binding.discovery.resource,
        requestedScopes: scopes,
        dpop: dpopKey && state.dpop?.proofs(dpopKey),
        signal: signal,
        clock: () => state.now(),
        sleep: options.sleep,
      });
      const stored = await storeTokens(state, binding, tokens, dpopKey);
      state.logger.debug('session.authorized', {
        issuer: binding.discovery.issuer,
        scopes: stored.grantedScopes,
      });
      return stored;
    },
  };
}
