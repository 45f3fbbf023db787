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
import type { SessionState } from './state.js';
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

const DONE: NextStep = { type: 'done' };

/** RFC 9449 §8.1 `nonce = 1*NQCHAR`, at most 512 characters. */
const DPOP_NONCE = /^[\x21\x23-\x5B\x5D-\x7E]{1,512}$/;

/** The credential headers for one send, the token they carry, and whether the URL is in scope. */
interface Credentials {
  readonly headers: Record<string, string>;
  readonly token: string | undefined;
  readonly inside: boolean;
}

const NO_CREDENTIALS: Credentials = { headers: {}, token: undefined, inside: false };

interface Init {
  readonly method: string;
  readonly url: string;
  readonly signal: AbortSignal | undefined;
  readonly replayable: boolean;
  /** The first send's URL is in the protected scope. */
  readonly inside: boolean;
}

export class ResourceRequest {
  readonly #state: SessionState;
  readonly #init: Init;
  readonly #follow: boolean;
  /** The step that was sent last, and whether its URL is in the protected scope. */
  #current: SendStep;
  #currentInside: boolean;
  /** The access token the last send carried. */
  #sentToken: string | undefined;
  #hops = 0;
  #retries = { authorization: 0, dpopNonce: 0 };
  /** Whether the body has been sent once (a stream cannot be sent again). */
  #bodySent = false;

  /** @internal Built by `OAuthSession.beginRequest`. */
  constructor(
    state: SessionState,
    init: Init,
    follow: boolean,
    first: SendStep,
    sentToken: string | undefined,
  ) {
    this.#state = state;
    this.#init = init;
    this.#follow = follow;
    this.#current = first;
    this.#currentInside = init.inside;
    this.#sentToken = sentToken;
  }

  /** The first send. */
  get first(): SendStep {
    return this.#current;
  }

  /**
   * Reports the response to the last send and returns the next step. Throws an
   * `OAuthClientError` when authorization cannot succeed (the response is then not handed back:
   * the adapter frees it).
   */
  async respond(response: ResourceResponse): Promise<NextStep> {
    const sent = this.#current;
    if (sent.withBody) this.#bodySent = true;
    const state = this.#state;
    const { status, headers } = response;
    const inside = this.#currentInside;

    // A nonce matters to a session with DPoP, and to the decision about a 401 or 403.
    const nonce =
      inside && (state.dpop !== undefined || status === 401 || status === 403)
        ? readHeader(headers, 'dpop-nonce')?.trim()
        : undefined;
    const nonceReceived = nonce !== undefined && DPOP_NONCE.test(nonce);
    if (nonceReceived) state.dpop?.rememberNonce(sent.url, nonce);

    if (response.opaqueRedirect === true) {
      return this.#next(
        {
          ...sent,
          reason: 'redirect',
          headers: {},
          removeHeaders: CREDENTIAL_HEADER_NAMES,
          redirect: 'follow',
        },
        inside,
      );
    }
    if (this.#follow && sent.redirect === 'manual' && status >= 300 && status < 400) {
      const hop = planRedirect({
        status,
        location: readHeader(headers, 'location'),
        method: sent.method,
        url: sent.url,
        hops: this.#hops,
      });
      if (hop !== undefined) {
        this.#hops++;
        const credentials = await this.#credentials(hop.method, hop.url);
        return this.#next(
          {
            type: 'send',
            reason: 'redirect',
            url: hop.url,
            method: hop.method,
            withBody: sent.withBody && !hop.dropBody,
            removeHeaders: [...new Set([...sent.removeHeaders, ...hop.removeHeaders])],
            headers: credentials.headers,
            redirect: 'manual',
          },
          credentials.inside,
        );
      }
    }

    if (status !== 401 && status !== 403) return DONE;
    if (!inside) {
      // Most often a trailing slash or `localhost` against `127.0.0.1`: say why no credentials went.
      state.config.logger.warn('session.outside_scope', {
        status,
        url: redactUrl(sent.url),
        reason: (scopeCheck(state, sent.url) as { reason: 'origin' | 'path' }).reason,
      });
      return DONE;
    }
    const challenge = readResourceChallenge(readHeader(headers, 'www-authenticate'));
    if (challenge.resourceMetadata !== undefined) state.lastResourceMetadataUrl = challenge.resourceMetadata;
    const tokens = state.tokens;
    const retries = this.#retries;
    const decision = decide({
      status,
      challenge,
      retries,
      nonceReceived,
      sentToken: this.#sentToken !== undefined,
      held: tokens === undefined ? undefined : held(state, tokens, this.#sentToken),
      stepUps: { recent: state.stepUps.recent(state.now()), max: state.stepUps.max },
    });
    state.config.logger.debug('session.decision', {
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
          this.#retries = { ...retries, dpopNonce: retries.dpopNonce + 1 };
          // The nonce is for the URL that asked for it: send this hop again, not the whole request.
          const credentials = await this.#credentials(sent.method, sent.url);
          return this.#next({ ...sent, reason: 'retry', headers: credentials.headers }, credentials.inside);
        }
        break;
      default:
        await recover(state, decision, challenge.resourceMetadata, this.#init.signal);
    }
    this.#retries = { ...retries, authorization: retries.authorization + 1 };
    this.#hops = 0;
    const { method, url } = this.#init;
    const credentials = await this.#credentials(method, url);
    return this.#next(
      {
        type: 'send',
        reason: 'retry',
        url,
        method,
        withBody: true,
        removeHeaders: CREDENTIAL_HEADER_NAMES,
        headers: credentials.headers,
        redirect: this.#follow ? 'manual' : sent.redirect,
      },
      credentials.inside,
    );
  }

  /** Credentials for one send; remembers which token they carry. */
  async #credentials(method: string, url: string): Promise<Credentials> {
    const credentials = await credentialsFor(this.#state, method, url, this.#init.signal);
    this.#sentToken = credentials.token;
    return credentials;
  }

  #next(step: SendStep, inside: boolean): SendStep {
    if (step.withBody && this.#bodySent && !this.#init.replayable) {
      throw oauthError(
        'request_not_replayable',
        'the request must be sent again, but its body is a stream that was already consumed; send a string, bytes, URLSearchParams, FormData or Blob body instead',
      );
    }
    this.#current = step;
    this.#currentInside = inside;
    return step;
  }
}

function held(state: SessionState, tokens: StoredTokens, sentToken: string | undefined) {
  return {
    sentTokenIsCurrent: sentToken === tokens.accessToken,
    canRefresh: canRenewSilently(state, tokens),
    requestedScopes: tokens.requestedScopes,
    grantedScopes: tokens.grantedScopes,
  };
}

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
    return {
      headers: { authorization: `Bearer ${ready.accessToken}` },
      token: ready.accessToken,
      inside: true,
    };
  }
  const target = typeof url === 'string' ? url : url.href;
  return tokensForUse(state, signal).then(async (tokens) =>
    tokens === undefined
      ? { headers: {}, token: undefined, inside: true }
      : {
          headers: await credentialHeaders(state, tokens, method, target),
          token: tokens.accessToken,
          inside: true,
        },
  );
}

/** Starts a request: the first send, and the object that plans the rest. */
export function beginResourceRequest(
  state: SessionState,
  init: ResourceRequestInit,
): Promise<ResourceRequest> {
  const parsed = typeof init.url === 'string' ? tryParseUrl(init.url) : init.url;
  // A URL that does not parse is sent as it is, with nothing added: the library reports it.
  const url = parsed?.href ?? String(init.url);
  const method = typeof init.method === 'string' && init.method !== '' ? init.method : 'GET';
  const redirect = init.redirect ?? 'follow';
  let credentials: Credentials | Promise<Credentials>;
  try {
    credentials = parsed === undefined ? NO_CREDENTIALS : credentialsFor(state, method, parsed, init.signal);
  } catch (error) {
    return Promise.reject(error);
  }
  const start = ({ headers, token, inside }: Credentials) => {
    // Outside the protected scope nothing is added, and the library follows redirects itself.
    const follow = inside && redirect === 'follow';
    const first: SendStep = {
      type: 'send',
      reason: 'initial',
      url,
      method,
      withBody: true,
      // Inside the scope the session's credentials replace any the caller set; outside, the
      // caller's own headers go as they are.
      removeHeaders: inside ? CREDENTIAL_HEADER_NAMES : [],
      headers,
      redirect: follow ? 'manual' : redirect,
    };
    return new ResourceRequest(
      state,
      { method, url, signal: init.signal, replayable: init.replayableBody !== false, inside },
      follow,
      first,
      token,
    );
  };
  return credentials instanceof Promise ? credentials.then(start) : Promise.resolve(start(credentials));
}
