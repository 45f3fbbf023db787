import type { OAuthSession, ResponseInfo } from '@mcp-oauth/core';

/**
 * A stand-in for `OAuthSession` with the two methods the hooks call: `Bearer token-N` (plus a
 * `dpop` header when asked) for URLs under `resource`, a new token on each 401 at attempt 0 inside it.
 */
export class StubSession {
  token = 1;
  readonly seen: ResponseInfo[] = [];
  readonly headerRequests: Array<{ method: string; url: string }> = [];
  /** Replaces `getAuthorizationHeaders` (to hold it, or fail it). */
  wait: ((signal: AbortSignal | undefined) => Promise<void>) | undefined;

  constructor(
    readonly resource: string,
    readonly dpop = false,
  ) {}

  async getAuthorizationHeaders(request: {
    method: string;
    url: string | URL;
    signal?: AbortSignal | undefined;
  }) {
    const url = String(request.url);
    this.headerRequests.push({ method: request.method, url });
    await this.wait?.(request.signal);
    if (!url.startsWith(this.resource)) return {};
    const headers: Record<string, string> = { authorization: `Bearer token-${this.token}` };
    if (this.dpop) headers.dpop = `proof-${request.method}-${url}-${this.headerRequests.length}`;
    return headers;
  }

  async handleResponse(response: ResponseInfo): Promise<'retry' | 'pass'> {
    this.seen.push(response);
    if (!String(response.url).startsWith(this.resource)) return 'pass';
    if (response.status !== 401 || response.attempt > 0) return 'pass';
    this.token++;
    return 'retry';
  }

  /** Typed as the real session for the hooks' signature. */
  get session(): OAuthSession {
    return this as unknown as OAuthSession;
  }
}
