/**
 * Fetching a metadata document from a list of candidate URLs, and checking its members by kind.
 */
import { invalidField, isOAuthClientError, type OAuthClientError, oauthError } from '../errors.js';
import { type HttpContext, parseJsonObject, sendRequest } from '../http.js';
import { allowsLoopbackHttp, assertNamedUrl, redactUrl } from '../url.js';

export const PRM = 'protected resource metadata';
export const AS_METADATA = 'authorization server metadata';

/**
 * A 4xx answer means the document is not served at that URL, which sends discovery on to the next
 * candidate and, when every candidate says so, to the legacy fallback. 408 and 429 are transient
 * and count as failures, as do 5xx and other statuses.
 */
export function isAbsentStatus(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/**
 * Tries `candidates` in order: the first served document that `validate` accepts wins (`validate`
 * logs the `discovery.<kind>.found` event, with what it learned). A "not
 * there" answer moves on; a failure (transport, status, invalid document) is remembered and moves
 * on, except the `hardStops` codes and `aborted`, which end discovery. `undefined` when every
 * candidate was absent; `discovery_failed` (cause: the last failure) when one failed otherwise.
 */
export async function firstDocument<T>(
  context: HttpContext,
  kind: 'prm' | 'as',
  candidates: readonly string[],
  signal: AbortSignal | undefined,
  hardStops: readonly string[],
  validate: (document: Record<string, unknown>, url: string) => T,
): Promise<T | undefined> {
  const what = kind === 'prm' ? PRM : AS_METADATA;
  const { logger } = context;
  let lastError: OAuthClientError | undefined;
  for (const url of candidates) {
    const shown = redactUrl(url);
    logger.debug(`discovery.${kind}.candidate`, { url: shown });
    try {
      const response = await sendRequest(context, {
        method: 'GET',
        url,
        headers: { accept: 'application/json' },
        redirect: 'same-origin',
        signal,
      });
      const { status } = response;
      if (isAbsentStatus(status)) {
        logger.debug(`discovery.${kind}.absent`, { url: shown, status });
        continue;
      }
      if (status < 200 || status > 299) {
        throw oauthError('http_error', `${what} request answered with HTTP ${status}`, { status });
      }
      return validate(parseJsonObject(response, what), url);
    } catch (error) {
      if (!isOAuthClientError(error) || error.code === 'aborted' || hardStops.includes(error.code))
        throw error;
      logger.debug(`discovery.${kind}.failed`, { url: shown, code: error.code, status: error.status });
      lastError = error;
    }
  }
  if (lastError === undefined) return undefined;
  throw oauthError('discovery_failed', `${what} could not be retrieved`, { cause: lastError });
}

const isString = (value: unknown) => typeof value === 'string';

/** What each kind of member must be. */
const MEMBER_RULES = {
  strings: [isString, 'must be a string'],
  urls: [isString, 'must be a string'],
  lists: [(value: unknown) => Array.isArray(value) && value.every(isString), 'must be an array of strings'],
  flags: [(value: unknown) => typeof value === 'boolean', 'must be a boolean'],
} as const;

/** Where a document came from, for the rules its URLs are held to. */
interface DocumentOrigin {
  /** The URL the document was requested from (or the issuer, for authorization server metadata). */
  readonly learnedFrom: URL;
  readonly allowPrivateNetworks?: boolean | undefined;
  readonly allowLoopbackHttp: boolean;
}

/**
 * Checks the members of a metadata document, kind by kind in the order given: `strings` string
 * values, `lists` arrays of strings, `flags` booleans, `urls` safe URLs no more private than where
 * the document came from. Absent members pass; a mistyped one is `metadata_invalid` naming it, an
 * unsafe URL `unsafe_url`.
 */
export function checkMembers(
  document: Record<string, unknown>,
  what: string,
  members: Partial<Record<keyof typeof MEMBER_RULES, readonly string[]>>,
  origin: DocumentOrigin,
): void {
  for (const [kind, fields] of Object.entries(members)) {
    const [valid, rule] = MEMBER_RULES[kind as keyof typeof MEMBER_RULES];
    for (const field of fields) {
      const value = document[field];
      if (value === undefined) continue;
      if (!valid(value)) throw invalidField('metadata_invalid', what, field, rule);
      if (kind === 'urls') assertNamedUrl(value, { ...origin, what: `${what} "${field}"` });
    }
  }
}

/**
 * http is allowed on a loopback host when the MCP server itself is on loopback http, or when the
 * application allowed private networks for the server concerned (a public MCP server in front of
 * an authorization server on `http://localhost:9000` during development).
 */
export function loopbackHttpAllowed(serverUrl: URL, allowPrivateNetworks: boolean | undefined): boolean {
  return allowPrivateNetworks === true || allowsLoopbackHttp(serverUrl);
}
