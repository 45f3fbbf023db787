/**
 * `WWW-Authenticate` parsing (RFC 9110 §11.6.1):
 *
 *     WWW-Authenticate = #challenge
 *     challenge   = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 *     auth-param  = token BWS "=" BWS ( token / quoted-string )
 *     token68     = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
 *
 * The list is ambiguous only in one place: after a comma, `token =` continues the current
 * challenge's parameters, while a token followed by whitespace and anything but `=` (or by a
 * comma, or by the end) starts a new challenge.
 *
 * The parser never throws. A malformed challenge is dropped whole (its parameters are not
 * trusted), parsing resumes at the next comma outside a quoted string, and challenges parsed
 * before it are kept. Work is bounded: at most {@link MAX_HEADER_LENGTH} characters are read
 * (a challenge the cut goes through is dropped, as it may have lost part of a value), and at most
 * {@link MAX_CHALLENGES} challenges and {@link MAX_PARAMS} parameters per challenge are kept.
 */

import { withoutUndefined } from './fields.js';
import { parseScope } from './scopes.js';

/** One challenge from a `WWW-Authenticate` field. */
export interface AuthChallenge {
  /** The auth-scheme, lower-cased. */
  readonly scheme: string;
  /** The token68 form (e.g. `Basic dXNlcjpwYXNz`), exactly as sent. */
  readonly token68?: string;
  /** Parameter names lower-cased; values unquoted. The object has a null prototype. */
  readonly params: Readonly<Record<string, string>>;
}

/** Characters read from the combined header value; the rest is ignored. */
export const MAX_HEADER_LENGTH = 16 * 1024;
export const MAX_CHALLENGES = 32;
/** Parameters kept per challenge; further ones are parsed and discarded. */
export const MAX_PARAMS = 64;

// Each pattern is sticky (`y`): it matches exactly at `lastIndex`, the parser's position.
const TOKEN = /[!#$%&'*+\-.^_`|~0-9A-Za-z]*/y;
const WHITESPACE = /[ \t]*/y;
/** OWS and commas: the empty list elements RFC 9110 §5.6.1.2 tells recipients to accept. */
const SEPARATORS = /[ \t,]*/y;
/** A token68 that is the whole rest of its list element (up to a comma or the end). */
const TOKEN68 = /([A-Za-z0-9\-._~+/]+=*)[ \t]*(?=,|$)/y;
const QUOTED = /"((?:[^"\\]|\\[\s\S])*)"/y;
/** Not qdtext, nor the second character of a quoted-pair (HTAB, SP, VCHAR and obs-text are). */
const UNQUOTABLE = /[^\t\x20-\x7e\x80-\uffff]/;
/** Everything up to and including the next comma outside a quoted string (or to the end). */
const REST_OF_ELEMENT = /(?:[^,"]|"(?:[^"\\]|\\[\s\S])*"?)*,?/y;

/** Combines repeated field lines as RFC 9110 §5.3 allows, reading no more than the limit. */
function combine(header: unknown): { value: string; truncated: boolean } {
  let value = typeof header === 'string' ? header : '';
  if (Array.isArray(header)) {
    for (const line of header as readonly unknown[]) {
      if (typeof line === 'string') value = value === '' ? line : `${value}, ${line}`;
      if (value.length > MAX_HEADER_LENGTH) break;
    }
  }
  const truncated = value.length > MAX_HEADER_LENGTH;
  return { value: truncated ? value.slice(0, MAX_HEADER_LENGTH) : value, truncated };
}

/** Thrown inside the parser for a malformed list element; parsing resumes after the next comma from `resumeAt`. */
class Malformed {
  constructor(readonly resumeAt: number) {}
}

type Building = { -readonly [K in keyof AuthChallenge]: AuthChallenge[K] } & {
  params: Record<string, string>;
};

function addParam(challenge: Building, name: string, value: string): void {
  const key = name.toLowerCase();
  const { params } = challenge;
  // `__proto__` is dropped so that copying `params` with Object.assign cannot set a prototype.
  if (key !== '__proto__' && !Object.hasOwn(params, key) && Object.keys(params).length < MAX_PARAMS) {
    params[key] = value;
  }
}

/**
 * Parses `WWW-Authenticate` field values (one string, or the repeated field lines as an array)
 * into challenges in the order sent. Never throws; see the module comment for what is skipped.
 */
export function parseWwwAuthenticate(header: string | readonly string[] | null | undefined): AuthChallenge[] {
  const { value: input, truncated } = combine(header);
  const end = input.length;
  const challenges: AuthChallenge[] = [];
  let position = 0;
  let current: Building | undefined;

  /** Matches a sticky `pattern` at the position and moves past the match. */
  const read = (pattern: RegExp): RegExpExecArray | null => {
    pattern.lastIndex = position;
    const match = pattern.exec(input);
    if (match !== null) position = pattern.lastIndex;
    return match;
  };
  const readToken = () => read(TOKEN)![0];
  const skipWhitespace = () => read(WHITESPACE)![0].length;

  const close = (atEndOfInput: boolean): void => {
    // A challenge cut by the length limit may have lost parameters or part of a value.
    if (current !== undefined && !(atEndOfInput && truncated)) challenges.push(current);
    current = undefined;
  };

  const open = (scheme: string): Building => {
    close(false);
    current = { scheme: scheme.toLowerCase(), params: Object.create(null) };
    return current;
  };

  /** At `=` after a parameter name: reads `BWS ( token / quoted-string ) OWS` up to a comma or the end. */
  const readParamValue = (challenge: Building, name: string): void => {
    position++;
    skipWhitespace();
    let value: string;
    if (input[position] === '"') {
      // An unterminated quoted string runs to the end of the input.
      const quoted = read(QUOTED)?.[1];
      if (quoted === undefined) throw new Malformed(end);
      if (UNQUOTABLE.test(quoted)) throw new Malformed(position);
      value = quoted.replace(/\\([\s\S])/g, '$1');
    } else {
      value = readToken();
      if (value === '') throw new Malformed(position);
    }
    skipWhitespace();
    if (position < end && input[position] !== ',') throw new Malformed(position);
    addParam(challenge, name, value);
  };

  while (challenges.length < MAX_CHALLENGES) {
    read(SEPARATORS);
    if (position >= end) break;
    // A token68 challenge takes no parameters, so a comma after it always ends it.
    if (current?.token68 !== undefined) close(false);
    const elementStart = position;
    try {
      const name = readToken();
      // Not a token (`=x`, `"…"`): a broken parameter of the current challenge, if any.
      if (name === '') throw new Malformed(elementStart);
      const gap = skipWhitespace();
      const next = input[position];
      if (next === '=') {
        // `token BWS "=" BWS value` continues the current challenge's parameters.
        if (current === undefined) throw new Malformed(elementStart);
        readParamValue(current, name);
      } else if (next === undefined || next === ',') {
        open(name);
      } else if (gap > 0) {
        const opened = open(name);
        const token68 = read(TOKEN68);
        if (token68 !== null) {
          opened.token68 = token68[1]!;
        } else {
          const paramName = readToken();
          skipWhitespace();
          if (paramName === '' || input[position] !== '=') throw new Malformed(position);
          readParamValue(opened, paramName);
        }
      } else {
        // A token glued to something else (`Bearer"x"`, `Bea\0rer`) cannot be a parameter, so
        // it is a broken new challenge: the one before it is complete.
        close(false);
        throw new Malformed(position);
      }
      if (position >= end) close(true);
    } catch (error) {
      if (!(error instanceof Malformed)) throw error;
      current = undefined;
      position = error.resumeAt;
      read(REST_OF_ELEMENT);
    }
  }
  if (challenges.length < MAX_CHALLENGES) close(true);
  return challenges;
}

/** What an MCP client needs from a resource server's 401/403: merged from the Bearer and DPoP challenges (Bearer's values first). */
export interface ResourceChallenge {
  /** `bearer` and `dpop`, in the order the server sent them; other schemes are left out. */
  readonly schemes: readonly string[];
  /** The `resource_metadata` parameter (RFC 9728 §5.1), unvalidated. */
  readonly resourceMetadata?: string;
  /** The `scope` parameter, split by {@link parseScope}; absent when it holds no valid scope. */
  readonly scope?: readonly string[];
  /** The `error` parameter, e.g. `invalid_token`, `insufficient_scope`, `use_dpop_nonce`. */
  readonly error?: string;
  readonly errorDescription?: string;
  /** The DPoP challenge's `algs` parameter (RFC 9449 §7.1), split on spaces. */
  readonly dpopAlgs?: readonly string[];
}

/**
 * Reads the parts of a resource server's challenges an MCP client acts on. Each field comes from
 * the first Bearer challenge that has it, then from the first DPoP challenge; empty values are
 * treated as absent.
 */
export function readResourceChallenge(
  header: string | readonly string[] | null | undefined,
): ResourceChallenge {
  const challenges = parseWwwAuthenticate(header).filter(
    ({ scheme }) => scheme === 'bearer' || scheme === 'dpop',
  );
  // Bearer challenges first, then DPoP ones; the sort is stable, so each keeps the order sent.
  const ordered = [...challenges].sort((a, b) => a.scheme.localeCompare(b.scheme));
  const first = <T>(read: (challenge: AuthChallenge) => T | undefined): T | undefined => {
    for (const challenge of ordered) {
      const value = read(challenge);
      if (value !== undefined) return value;
    }
    return undefined;
  };
  const param = (name: string) => first(({ params }) => params[name] || undefined);
  const nonEmpty = (list: string[]) => (list.length > 0 ? list : undefined);
  return withoutUndefined<ResourceChallenge>({
    schemes: [...new Set(challenges.map(({ scheme }) => scheme))],
    resourceMetadata: param('resource_metadata'),
    scope: first(({ params }) => nonEmpty(parseScope(params.scope))),
    // A nonce request is acted on whichever challenge carries it: the retry it asks for is cheap
    // and any other error is re-evaluated on the retried response.
    error: ordered.some(({ params }) => params.error === 'use_dpop_nonce')
      ? 'use_dpop_nonce'
      : param('error'),
    errorDescription: param('error_description'),
    dpopAlgs: first(({ scheme, params }) =>
      scheme === 'dpop' ? nonEmpty([...new Set((params.algs ?? '').split(' ').filter(Boolean))]) : undefined,
    ),
  });
}
