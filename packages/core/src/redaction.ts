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
  return text.replace(
    /^(authorization|dpop)[ \t]*:[^\r\n]*/gim,
    (_line, name: string) => `${name}: ${REDACTED}`,
  );
}
