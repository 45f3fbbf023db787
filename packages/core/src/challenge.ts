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

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68_CHAR = /[A-Za-z0-9\-._~+/]/;

function isTchar(char: string): boolean {
  return TCHAR.test(char);
}

function isWhitespace(char: string | undefined): boolean {
  return char === ' ' || char === '\t';
}

/** qdtext and the second character of a quoted-pair: HTAB, SP, VCHAR, obs-text (and any non-ASCII). */
function isQuotable(code: number): boolean {
  return code === 0x09 || (code >= 0x20 && code !== 0x7f);
}

/** Combines repeated field lines as RFC 9110 §5.3 allows, reading no more than the limit. */
function combine(header: unknown): { value: string; truncated: boolean } {
  if (typeof header === 'string') {
    return header.length > MAX_HEADER_LENGTH
      ? { value: header.slice(0, MAX_HEADER_LENGTH), truncated: true }
      : { value: header, truncated: false };
  }
  if (!Array.isArray(header)) return { value: '', truncated: false };
  let value = '';
  for (const line of header as readonly unknown[]) {
    if (typeof line !== 'string') continue;
    value = value === '' ? line : `${value}, ${line}`;
    if (value.length > MAX_HEADER_LENGTH)
      return { value: value.slice(0, MAX_HEADER_LENGTH), truncated: true };
  }
  return { value, truncated: false };
}

class Malformed {
  constructor(readonly resumeAt: number) {}
}

interface Building {
  scheme: string;
  token68?: string;
  params: Record<string, string>;
  count: number;
}

class ChallengeParser {
  readonly #input: string;
  #position = 0;

  constructor(input: string) {
    this.#input = input;
  }

  get atEnd(): boolean {
    return this.#position >= this.#input.length;
  }

  peek(): string | undefined {
    return this.#input[this.#position];
  }

  skipWhitespace(): number {
    const start = this.#position;
    while (isWhitespace(this.peek())) this.#position++;
    return this.#position - start;
  }

  /** Skips OWS and commas: the empty list elements RFC 9110 §5.6.1.2 tells recipients to accept. */
  skipSeparators(): void {
    for (let char = this.peek(); char === ',' || isWhitespace(char); char = this.peek()) this.#position++;
  }

  readToken(): string {
    const start = this.#position;
    while (!this.atEnd && isTchar(this.peek()!)) this.#position++;
    return this.#input.slice(start, this.#position);
  }

  /** Reads token68 when the rest of this list element is exactly a token68; otherwise moves nothing. */
  tryReadToken68(): string | undefined {
    const start = this.#position;
    let end = start;
    while (end < this.#input.length && TOKEN68_CHAR.test(this.#input[end]!)) end++;
    if (end === start) return undefined;
    while (this.#input[end] === '=') end++;
    let after = end;
    while (isWhitespace(this.#input[after])) after++;
    if (after < this.#input.length && this.#input[after] !== ',') return undefined;
    this.#position = after;
    return this.#input.slice(start, end);
  }

  /** Reads a quoted-string at `"`. A bad character makes it malformed; an unterminated one ends the input. */
  readQuoted(): string {
    const input = this.#input;
    let index = this.#position + 1;
    let value = '';
    let valid = true;
    while (index < input.length) {
      const char = input[index]!;
      if (char === '"') {
        this.#position = index + 1;
        if (!valid) throw new Malformed(this.#position);
        return value;
      }
      if (char === '\\') {
        const next = input[index + 1];
        if (next === undefined) break;
        if (!isQuotable(next.charCodeAt(0))) valid = false;
        value += next;
        index += 2;
        continue;
      }
      if (!isQuotable(char.charCodeAt(0))) valid = false;
      value += char;
      index++;
    }
    throw new Malformed(input.length);
  }

  /** At `=` after a parameter name: reads `BWS ( token / quoted-string ) OWS` up to a comma or the end. */
  readParamValue(challenge: Building, name: string): void {
    this.#position++;
    this.skipWhitespace();
    const quoted = this.peek() === '"';
    const value = quoted ? this.readQuoted() : this.readToken();
    if (!quoted && value === '') throw new Malformed(this.#position);
    this.skipWhitespace();
    if (!this.atEnd && this.peek() !== ',') throw new Malformed(this.#position);
    addParam(challenge, name, value);
  }

  /** Moves past the next comma that is not inside a quoted string (or to the end). */
  recover(from: number): void {
    const input = this.#input;
    let index = from;
    while (index < input.length) {
      const char = input[index]!;
      if (char === ',') {
        this.#position = index + 1;
        return;
      }
      if (char === '"') {
        index++;
        while (index < input.length && input[index] !== '"') index += input[index] === '\\' ? 2 : 1;
      }
      index++;
    }
    this.#position = input.length;
  }

  get position(): number {
    return this.#position;
  }
}

function addParam(challenge: Building, name: string, value: string): void {
  const key = name.toLowerCase();
  // `__proto__` is dropped so that copying `params` with Object.assign cannot set a prototype.
  if (key === '__proto__' || Object.hasOwn(challenge.params, key)) return;
  if (challenge.count >= MAX_PARAMS) return;
  challenge.params[key] = value;
  challenge.count++;
}

function finish(challenge: Building): AuthChallenge {
  return challenge.token68 === undefined
    ? { scheme: challenge.scheme, params: challenge.params }
    : { scheme: challenge.scheme, token68: challenge.token68, params: challenge.params };
}

/**
 * Parses `WWW-Authenticate` field values (one string, or the repeated field lines as an array)
 * into challenges in the order sent. Never throws; see the module comment for what is skipped.
 */
export function parseWwwAuthenticate(header: string | readonly string[] | null | undefined): AuthChallenge[] {
  const { value, truncated } = combine(header);
  const parser = new ChallengeParser(value);
  const challenges: AuthChallenge[] = [];
  let current: Building | undefined;

  const close = (atEndOfInput: boolean): void => {
    // A challenge cut by the length limit may have lost parameters or part of a value.
    if (current !== undefined && !(atEndOfInput && truncated)) challenges.push(finish(current));
    current = undefined;
  };

  const open = (scheme: string): Building => {
    close(false);
    current = { scheme: scheme.toLowerCase(), params: Object.create(null), count: 0 };
    return current;
  };

  while (challenges.length < MAX_CHALLENGES) {
    parser.skipSeparators();
    if (parser.atEnd) break;
    // A token68 challenge takes no parameters, so a comma after it always ends it.
    if (current?.token68 !== undefined) close(false);
    const elementStart = parser.position;
    try {
      const name = parser.readToken();
      // Not a token (`=x`, `"…"`): a broken parameter of the current challenge, if any.
      if (name === '') throw new Malformed(elementStart);
      const gap = parser.skipWhitespace();
      const next = parser.peek();
      if (next === '=') {
        // `token BWS "=" BWS value` continues the current challenge's parameters.
        if (current === undefined) throw new Malformed(elementStart);
        parser.readParamValue(current, name);
      } else if (next === undefined || next === ',') {
        open(name);
      } else if (gap > 0) {
        const opened = open(name);
        const token68 = parser.tryReadToken68();
        if (token68 !== undefined) {
          opened.token68 = token68;
        } else {
          const paramName = parser.readToken();
          parser.skipWhitespace();
          if (paramName === '' || parser.peek() !== '=') throw new Malformed(parser.position);
          parser.readParamValue(opened, paramName);
        }
      } else {
        // A token glued to something else (`Bearer"x"`, `Bea\0rer`) cannot be a parameter, so
        // it is a broken new challenge: the one before it is complete.
        close(false);
        throw new Malformed(parser.position);
      }
      if (parser.atEnd) close(true);
    } catch (error) {
      if (!(error instanceof Malformed)) throw error;
      current = undefined;
      parser.recover(error.resumeAt);
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

const RESOURCE_SCHEMES = new Set(['bearer', 'dpop']);

/**
 * Reads the parts of a resource server's challenges an MCP client acts on. Each field comes from
 * the first Bearer challenge that has it, then from the first DPoP challenge; empty values are
 * treated as absent.
 */
export function readResourceChallenge(
  header: string | readonly string[] | null | undefined,
): ResourceChallenge {
  const challenges = parseWwwAuthenticate(header).filter((challenge) =>
    RESOURCE_SCHEMES.has(challenge.scheme),
  );
  const schemes = [...new Set(challenges.map((challenge) => challenge.scheme))];
  const ordered = [
    ...challenges.filter((challenge) => challenge.scheme === 'bearer'),
    ...challenges.filter((challenge) => challenge.scheme === 'dpop'),
  ];
  const first = (name: string): string | undefined => {
    for (const challenge of ordered) {
      const value = challenge.params[name];
      if (value !== undefined && value !== '') return value;
    }
    return undefined;
  };

  let scope: string[] | undefined;
  for (const challenge of ordered) {
    const parsed = parseScope(challenge.params.scope);
    if (parsed.length > 0) {
      scope = parsed;
      break;
    }
  }
  let dpopAlgs: string[] | undefined;
  for (const challenge of ordered) {
    if (challenge.scheme !== 'dpop') continue;
    const algs = (challenge.params.algs ?? '').split(' ').filter((alg) => alg !== '');
    if (algs.length > 0) {
      dpopAlgs = [...new Set(algs)];
      break;
    }
  }

  const resourceMetadata = first('resource_metadata');
  // A nonce request is acted on whichever challenge carries it: the retry it asks for is cheap and
  // any other error is re-evaluated on the retried response.
  const error = ordered.some((challenge) => challenge.params.error === 'use_dpop_nonce')
    ? 'use_dpop_nonce'
    : first('error');
  const errorDescription = first('error_description');
  return {
    schemes,
    ...(resourceMetadata === undefined ? {} : { resourceMetadata }),
    ...(scope === undefined ? {} : { scope }),
    ...(error === undefined ? {} : { error }),
    ...(errorDescription === undefined ? {} : { errorDescription }),
    ...(dpopAlgs === undefined ? {} : { dpopAlgs }),
  };
}
