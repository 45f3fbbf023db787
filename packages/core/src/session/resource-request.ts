/**
 * One request to the MCP server, from its first send to the response handed back to the caller.
 * The adapter sends what a {@link SendStep} says and reports each response; this object decides
 * everything else: which credentials go to which URL, whether to retry (one authorization retry,
 * one DPoP-nonce retry), and how to follow each redirect hop.
 */
import { readResourceChallenge } from '../challenge.js';
import { decide } from '../decide.js';
import { oauthError } from '../errors.js';
import { type HeadersInput, readHeader } from '../headers.js';
import { CREDENTIAL_HEADER_NAMES, planRedirect } from '../redirect-policy.js';
import type { StoredTokens } from '../stores.js';
import { redactUrl, tryParseUrl } from '../url.js';
import { credentialHeaders } from './credentials.js';
import { recover } from './recovery.js';
import { canRenewSilently } from './renewal.js';
import { scopeCheck } from './scope.js';
import { recentStepUps, type SessionState } from './state.js';
import { readyTokens, tokensForUse } from './tokens.js';

/** What the adapter tells the session about a request it is about to send. */
export interface ResourceRequestInit {
  readonly method: string;
  readonly url: string | URL;
  readonly signal?: AbortSignal | undefined;
  /**
   * The caller's redirect mode. With `follow` (the default) the adapter sends with
   * `redirect: 'manual'` and the session plans every hop; otherwise 3xx responses are handed back.
   */
  readonly redirect?: 'follow' | 'manual' | 'error' | undefined;
  /** False when the body is a stream that can be sent only once. Default true. */
  readonly replayableBody?: boolean | undefined;
}

/** One send: where, how, and with which headers. */
export interface SendStep {
  readonly type: 'send';
  /** Why this send happens: the first one, a retry of the whole request, or a redirect hop. */
  readonly reason: 'initial' | 'retry' | 'redirect';
  readonly url: string;
  readonly method: string;
  /** Send the caller's body (false after a redirect that turns the request into a GET). */
  readonly withBody: boolean;
  /** Start from the caller's headers, remove these (case-insensitive)… */
  readonly removeHeaders: readonly string[];
  /** …then set these. */
  readonly headers: Readonly<Record<string, string>>;
  /** The redirect mode to send with: `manual` when the session follows redirects itself. */
  readonly redirect: 'follow' | 'manual' | 'error';
}

/** What to do after a response: hand it back, or send again. */
export type NextStep = { readonly type: 'done' } | SendStep;

/** A response as the session needs to see it. */
export interface ResourceResponse {
  readonly status: number;
  readonly headers: HeadersInput;
  /**
   * A browser's opaque answer to `redirect: 'manual'` (fetch's `opaqueredirect`): the target is
   * hidden, so the session has the request sent again, following natively, without credentials.
   */
  readonly opaqueRedirect?: boolean | undefined;
}

/** One request to the MCP server: its first send, and the next step after each response. */
export interface ResourceRequest {
  /** The first send. */
  readonly first: SendStep;
  /**
   * Reports the response to the last send and returns the next step. Throws an
   * `OAuthClientError` when authorization cannot succeed (the response is then not handed back:
   * the adapter frees it).
   */
  respond(response: ResourceResponse): Promise<NextStep>;
}

const DONE: NextStep = { type: 'done' };

/** RFC 9449 §8.1 `nonce = 1*NQCHAR`, at most 512 characters. */
const DPOP_NONCE = /^[\x21\x23-\x5B\x5D-\x7E]{1,512}$/;

/** The credential headers for one send, the token they carry, and whether the URL is in scope. */
interface Credentials {
  /** Shared between requests (frozen): adapters only read a step's headers. */
  readonly headers: Readonly<Record<string, string>>;
  readonly token: string | undefined;
  readonly inside: boolean;
}

const NO_CREDENTIALS: Credentials = { headers: Object.freeze({}), token: undefined, inside: false };

/**
 * A ready Bearer token's credentials, built once per token: every request then hands the library
 * the same header value (adapters only read a step's headers).
 */
const bearerCredentials = new WeakMap<StoredTokens, Credentials>();

/**
 * The credentials for a request to `url`: none outside the protected scope or without a token.
 * With a Bearer token that is ready to use, they are known at once (no await on the hot path).
 */
function credentialsFor(
  state: SessionState,
  method: string,
  url: string | URL,
  signal: AbortSignal | undefined,
): Credentials | Promise<Credentials> {
  if (!scopeCheck(state, url).inside) return NO_CREDENTIALS;
  const ready = readyTokens(state);
  if (ready?.tokenType === 'Bearer') {
    let bearer = bearerCredentials.get(ready);
    if (bearer === undefined) {
      const token = ready.accessToken;
      bearer = { headers: Object.freeze({ authorization: `Bearer ${token}` }), token, inside: true };
      bearerCredentials.set(ready, bearer);
    }
    return bearer;
  }
  const target = typeof url === 'string' ? url : url.href;
  return tokensForUse(state, signal).then(async (tokens) => ({
    headers: tokens === undefined ? {} : await credentialHeaders(state, tokens, method, target),
    token: tokens?.accessToken,
    inside: true,
  }));
}

/**
 * What the adapter holds. The first send (with its credentials) is in a private field: a library
 * that keeps this object in its own options (got's `context`) prints none of it, in `util.inspect`
 * (even with `showHidden`) or `JSON.stringify`.
 */
class HeldRequest implements ResourceRequest {
  readonly #first: SendStep;
  constructor(
    first: SendStep,
    readonly respond: ResourceRequest['respond'],
  ) {
    this.#first = first;
  }

  get first(): SendStep {
    return this.#first;
  }
}

/** Starts a request: the first send, and the object that plans the rest. */
export function beginResourceRequest(
  state: SessionState,
  init: ResourceRequestInit,
): Promise<ResourceRequest> {
  const { signal } = init;
  const parsed = typeof init.url === 'string' ? tryParseUrl(init.url) : init.url;
  // A URL that does not parse is sent as it is, with nothing added: the library reports it.
  const url = parsed?.href ?? String(init.url);
  const method = typeof init.method === 'string' && init.method !== '' ? init.method : 'GET';
  const redirect = init.redirect ?? 'follow';
  let credentials: Credentials | Promise<Credentials>;
  try {
    credentials = parsed === undefined ? NO_CREDENTIALS : credentialsFor(state, method, parsed, signal);
  } catch (error) {
    return Promise.reject(error);
  }
  const start = (first: Credentials): ResourceRequest => {
    // Outside the protected scope nothing is added, and the library follows redirects itself.
    const follow = first.inside && redirect === 'follow';
    /** The step sent last, whether its URL is in the protected scope, and the token it carried. */
    let current: SendStep = {
      type: 'send',
      reason: 'initial',
      url,
      method,
      withBody: true,
      // Inside the scope the session's credentials replace any the caller set; outside, the
      // caller's own headers go as they are.
      removeHeaders: first.inside ? CREDENTIAL_HEADER_NAMES : [],
      headers: first.headers,
      redirect: follow ? 'manual' : redirect,
    };
    let inside = first.inside;
    let sentToken = first.token;
    let hops = 0;
    /** Retries made so far, by kind (each kind is allowed once). */
    let retries = { authorization: 0, dpopNonce: 0 };
    /** Whether the body has been sent once (a stream cannot be sent again). */
    let bodySent = false;

    /** Makes `step` the current send, with the credentials its URL gets (or `given`). */
    const next = async (step: Omit<SendStep, 'type' | 'headers'>, given?: Credentials): Promise<SendStep> => {
      if (step.withBody && bodySent && init.replayableBody === false) {
        throw oauthError(
          'request_not_replayable',
          'the request must be sent again, but its body is a stream that was already consumed; send a string, bytes, URLSearchParams, FormData or Blob body instead',
        );
      }
      const credentials = given ?? (await credentialsFor(state, step.method, step.url, signal));
      sentToken = credentials.token;
      inside = credentials.inside;
      current = { type: 'send', ...step, headers: credentials.headers };
      return current;
    };

    const respond = async ({ status, headers, opaqueRedirect }: ResourceResponse): Promise<NextStep> => {
      const sent = current;
      if (sent.withBody) bodySent = true;

      // A nonce matters to a session with DPoP, and to the decision about a 401 or 403.
      const nonce =
        inside && (state.dpop !== undefined || status === 401 || status === 403)
          ? readHeader(headers, 'dpop-nonce')?.trim()
          : undefined;
      const nonceReceived = nonce !== undefined && DPOP_NONCE.test(nonce);
      if (nonceReceived) state.dpop?.rememberNonce(sent.url, nonce);

      if (opaqueRedirect === true) {
        return next(
          { ...sent, reason: 'redirect', removeHeaders: CREDENTIAL_HEADER_NAMES, redirect: 'follow' },
          { headers: {}, token: sentToken, inside },
        );
      }
      if (follow && sent.redirect === 'manual' && status >= 300 && status < 400) {
        const hop = planRedirect({
          status,
          location: readHeader(headers, 'location'),
          method: sent.method,
          url: sent.url,
          hops,
        });
        if (hop !== undefined) {
          hops++;
          return next({
            reason: 'redirect',
            url: hop.url,
            method: hop.method,
            withBody: sent.withBody && !hop.dropBody,
            removeHeaders: [...new Set([...sent.removeHeaders, ...hop.removeHeaders])],
            redirect: 'manual',
          });
        }
      }

      if (status !== 401 && status !== 403) return DONE;
      const { logger } = state;
      if (!inside) {
        // Most often a trailing slash or `localhost` against `127.0.0.1`: say why no credentials went.
        logger.warn('session.outside_scope', {
          status,
          url: redactUrl(sent.url),
          reason: (scopeCheck(state, sent.url) as { reason: 'origin' | 'path' }).reason,
        });
        return DONE;
      }
      const challenge = readResourceChallenge(readHeader(headers, 'www-authenticate'));
      if (challenge.resourceMetadata !== undefined)
        state.lastResourceMetadataUrl = challenge.resourceMetadata;
      const tokens = state.tokens;
      const decision = decide({
        status,
        challenge,
        retries,
        nonceReceived,
        sentToken: sentToken !== undefined,
        held: tokens && {
          sentTokenIsCurrent: sentToken === tokens.accessToken,
          canRefresh: canRenewSilently(state, tokens),
          requestedScopes: tokens.requestedScopes,
          grantedScopes: tokens.grantedScopes,
        },
        stepUps: { recent: recentStepUps(state), max: state.stepUps.max },
      });
      logger.debug('session.decision', {
        status,
        decision: decision.type,
        error: challenge.error,
        retries: retries.authorization + retries.dpopNonce,
      });
      switch (decision.type) {
        case 'pass':
          return DONE;
        case 'fail':
          throw decision.error;
        case 'retry':
          if (decision.reason === 'dpop_nonce') {
            retries = { ...retries, dpopNonce: retries.dpopNonce + 1 };
            // The nonce is for the URL that asked for it: send this hop again, not the whole request.
            return next({ ...sent, reason: 'retry' });
          }
          break;
        default:
          await recover(state, decision, challenge.resourceMetadata, signal);
      }
      retries = { ...retries, authorization: retries.authorization + 1 };
      hops = 0;
      return next({
        reason: 'retry',
        url,
        method,
        withBody: true,
        removeHeaders: CREDENTIAL_HEADER_NAMES,
        redirect: follow ? 'manual' : sent.redirect,
      });
    };

    return new HeldRequest(current, respond);
  };
  return credentials instanceof Promise ? credentials.then(start) : Promise.resolve(start(credentials));
}
