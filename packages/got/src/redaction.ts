import { redactCredentialHeaders, redactSentRequest } from '@mcp-oauth/core/adapter';

/** A got error, response or `Request`: the parts of them that hold a sent request's headers. */
interface Sent {
  readonly options?: { readonly headers?: unknown };
  /** The options got handed to `http.request`, with a copy of the headers. */
  readonly _requestOptions?: { readonly headers?: unknown };
  /** Node's `ClientRequest`: a got `Request`'s `_request`, a response's `req`. */
  readonly _request?: unknown;
  readonly req?: unknown;
  readonly request?: Sent;
  readonly response?: Sent;
}

/**
 * Replaces `Authorization` and `DPoP` values, once sent, in a got error, response or `Request` and
 * in what they hold (its request, its response's request, Node's `ClientRequest` with its raw
 * `_header` and stored headers), so that `util.inspect` or `JSON.stringify` prints no token.
 */
export function redactSent(target: unknown, depth = 0): void {
  if (typeof target !== 'object' || target === null || depth > 2) return;
  const sent = target as Sent;
  redactCredentialHeaders(sent.options?.headers);
  redactCredentialHeaders(sent._requestOptions?.headers);
  for (const request of [sent._request, sent.req]) redactSentRequest(request);
  redactSent(sent.request, depth + 1);
  redactSent(sent.response, depth + 1);
}
