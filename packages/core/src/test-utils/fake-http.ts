import type { OAuthHttpClient, OAuthHttpRequest, OAuthHttpResponse } from '../http.js';

export type FakeReply =
  | Partial<OAuthHttpResponse>
  | ((request: OAuthHttpRequest) => Partial<OAuthHttpResponse> | Promise<Partial<OAuthHttpResponse>>);

/** A recorded request, with its form body decoded for easy assertions. */
export interface RecordedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
  form: Record<string, string> | undefined;
}

/**
 * A scripted OAuthHttpClient for unit tests. Routes are matched on `METHOD url` exactly; each route
 * holds a queue of replies (the last one repeats). Unrouted requests answer 404.
 */
export class FakeHttpClient implements OAuthHttpClient {
  readonly requests: RecordedRequest[] = [];
  readonly #routes = new Map<string, FakeReply[]>();

  on(method: 'GET' | 'POST', url: string, ...replies: FakeReply[]): this {
    this.#routes.set(`${method} ${url}`, replies);
    return this;
  }

  json(
    method: 'GET' | 'POST',
    url: string,
    body: unknown,
    status = 200,
    headers: Record<string, string> = {},
  ): this {
    return this.on(method, url, {
      status,
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  }

  async send(request: OAuthHttpRequest): Promise<OAuthHttpResponse> {
    const body = request.body;
    const isForm = request.headers['content-type']?.startsWith('application/x-www-form-urlencoded') ?? false;
    this.requests.push({
      method: request.method,
      url: request.url,
      headers: { ...request.headers },
      body,
      form: isForm && body !== undefined ? Object.fromEntries(new URLSearchParams(body)) : undefined,
    });
    const queue = this.#routes.get(`${request.method} ${request.url}`);
    if (queue === undefined || queue.length === 0) return { status: 404, headers: {}, body: '' };
    const reply = queue.length > 1 ? queue.shift()! : queue[0]!;
    const partial = typeof reply === 'function' ? await reply(request) : reply;
    return {
      status: partial.status ?? 200,
      headers: partial.headers ?? {},
      body: partial.body ?? '',
      ...(partial.url ? { url: partial.url } : {}),
    };
  }

  /** `METHOD url` of every request so far, in order. */
  get log(): string[] {
    return this.requests.map((request) => `${request.method} ${request.url}`);
  }
}
