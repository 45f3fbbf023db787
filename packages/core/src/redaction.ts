/**
 * Redaction of credential headers in the objects an HTTP library keeps on its errors and
 * responses (request headers, configs), so that logging an error never prints a token.
 */
import { CREDENTIAL_HEADER_NAMES } from './redirect-policy.js';

export const REDACTED = '[redacted]';

/** True for a header the engine sets (`Authorization`, `DPoP`), in any case. */
export function isCredentialHeader(name: string): boolean {
  return CREDENTIAL_HEADER_NAMES.includes(name.toLowerCase());
}

/**
 * Replaces credential header values in place in a plain record, a `Headers` object, or anything
 * with `get`/`set` (AxiosHeaders). Values that are already redacted are left as they are.
 */
export function redactCredentialHeaders(headers: unknown): void {
  if (typeof headers !== 'object' || headers === null) return;
  const withMethods = headers as { forEach?: unknown; set?: unknown; has?: unknown };
  if (typeof Headers !== 'undefined' && headers instanceof Headers) {
    for (const name of CREDENTIAL_HEADER_NAMES) {
      try {
        if (headers.has(name)) headers.set(name, REDACTED);
      } catch {
        // An immutable Headers (a Response's) cannot be changed; it never holds our credentials.
      }
    }
    return;
  }
  for (const name of Object.keys(headers)) {
    if (!isCredentialHeader(name)) continue;
    if (typeof withMethods.set === 'function' && typeof withMethods.has === 'function') {
      (headers as { set(name: string, value: string): void }).set(name, REDACTED);
    } else {
      (headers as Record<string, unknown>)[name] = REDACTED;
    }
  }
}

/** `text` with every credential header line of a raw HTTP/1 request head replaced. */
export function redactRawHeaders(text: string): string {
  return text.replace(/^(authorization|dpop)[ \t]*:[^\r\n]*/gim, `$1: ${REDACTED}`);
}

/**
 * Replaces credentials in a request object an HTTP library keeps after sending: Node's
 * `ClientRequest` (the head it wrote, `_header`, and `outputData` until a socket takes it; the
 * headers it was given, `[kOutHeaders]`: name → [name, value]; its options while it waits for a
 * socket), or a fetch `Request` (its headers). Plain property work: nothing here needs Node.
 */
export function redactSentRequest(request: unknown): void {
  if (typeof request !== 'object' || request === null) return;
  const raw = request as { _header?: unknown; outputData?: unknown; headers?: unknown } & Record<
    symbol,
    unknown
  >;
  if (typeof raw._header === 'string') raw._header = redactRawHeaders(raw._header);
  for (const chunk of Array.isArray(raw.outputData) ? (raw.outputData as Array<{ data?: unknown }>) : []) {
    if (typeof chunk.data === 'string') chunk.data = redactRawHeaders(chunk.data);
  }
  redactCredentialHeaders(raw.headers);
  for (const symbol of Object.getOwnPropertySymbols(raw)) {
    const value = raw[symbol] as (Record<string, unknown> & { headers?: unknown }) | null | undefined;
    if (symbol.description !== 'kOutHeaders') redactCredentialHeaders(value?.headers);
    else {
      for (const name of CREDENTIAL_HEADER_NAMES)
        (value?.[name] as unknown[] | undefined)?.splice(1, 1, REDACTED);
    }
  }
}
