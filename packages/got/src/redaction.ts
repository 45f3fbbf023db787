import { CREDENTIAL_HEADER_NAMES, REDACTED, redactSentRequest } from '@mcp-oauth/core/adapter';

/**
 * A got error, response or `Request`: the parts of them that hold a sent request's headers — got's
 * options, the options it handed `http.request` (`_requestOptions`, with a copy of the headers),
 * Node's `ClientRequest` (a got `Request`'s `_request`, a response's `req`), and the request and
 * response they lead to.
 */
type Sent = Partial<Record<'options' | '_requestOptions', { readonly headers?: Record<string, unknown> }>> &
  Partial<Record<'_request' | 'req' | 'request' | 'response', unknown>>;

/**
 * Replaces `Authorization` and `DPoP` values, once sent, in a got error, response or `Request` and
 * in what they hold (its request, its response's request, Node's `ClientRequest` with its raw
 * `_header` and stored headers), each object once, so that `util.inspect` or `JSON.stringify`
 * prints no token.
 */
export function redactSent(target: unknown, seen = new Set<unknown>()): void {
  if (typeof target !== 'object' || target === null || seen.has(target)) return;
  seen.add(target);
  const sent = target as Sent;
  for (const headers of [sent.options?.headers, sent._requestOptions?.headers]) {
    // got keeps header names in lower case: only the credential names need looking up.
    for (const name of CREDENTIAL_HEADER_NAMES) if (headers?.[name] !== undefined) headers[name] = REDACTED;
  }
  for (const request of [sent._request, sent.req]) if (!seen.has(request)) redactSentRequest(request);
  seen.add(sent._request).add(sent.req);
  redactSent(sent.request, seen);
  redactSent(sent.response, seen);
}
