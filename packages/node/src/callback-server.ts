/**
 * The loopback redirect of RFC 8252 §7.3: a tiny HTTP server on 127.0.0.1 that receives the
 * authorization response from the user's browser and hands the full callback URL over. A callback
 * (`GET <path>` or a path below it) goes only to the wait for its `state`: any web page the user
 * visits can send requests to 127.0.0.1, so a callback with no `state`, or one nobody waits for,
 * gets 400 and consumes nothing (a forged `error=access_denied` cannot cancel a login). The
 * session then validates `state`, `iss`, the redirect URI it arrived on, and the code.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OAuthClientError } from '@mcp-oauth/core';
import { FAILURE_HTML, SUCCESS_HTML } from './callback-pages.js';
import { systemErrorCode } from './errors.js';

export interface CallbackServerOptions {
  /** Port on 127.0.0.1. Default 0: the system picks a free one. */
  readonly port?: number;
  /** Path of the redirect URI. Default `/callback`. */
  readonly path?: string;
  /** How long each {@link CallbackServer.waitForCallback} waits. Default 5 minutes. */
  readonly timeoutMs?: number;
  /** Page shown to the browser after a successful callback. */
  readonly successHtml?: string;
  /** Page shown for an error response or a callback nobody waits for. */
  readonly failureHtml?: string;
}

export interface WaitForCallbackOptions {
  /** The `state` of the authorization request (the session's handler is given it): only the callback carrying it is taken. */
  readonly state: string;
  readonly signal?: AbortSignal | undefined;
}

export interface CallbackServer {
  /** `http://127.0.0.1:<port><path>`: put it in `client.redirectUris` before the session registers. */
  readonly redirectUri: string;
  /**
   * Waits for the callback carrying `state` and resolves with its full URL; any other callback is
   * answered 400 and left alone. Rejects with `timeout` or `aborted`, or `invalid_options` without
   * a `state`. The server keeps listening, so it can be called again.
   */
  waitForCallback(options: WaitForCallbackOptions): Promise<string>;
  /** Stops listening; callbacks still awaited reject with `aborted`. */
  close(): Promise<void>;
}

const HOST = '127.0.0.1';
const DEFAULT_PATH = '/callback';
const DEFAULT_TIMEOUT_MS = 5 * 60_000;
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  connection: 'close',
} as const;

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly html?: boolean;
  readonly headers?: Readonly<Record<string, string>>;
}

interface Waiter {
  readonly state: string;
  deliver(url: string): void;
  fail(error: OAuthClientError): void;
}

/** Starts listening on 127.0.0.1 and resolves once the redirect URI (with its port) is known. */
export async function startCallbackServer(options: CallbackServerOptions = {}): Promise<CallbackServer> {
  const port = options.port ?? 0;
  const path = options.path ?? DEFAULT_PATH;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new OAuthClientError('invalid_options', 'port must be an integer from 0 to 65535');
  }
  if (!path.startsWith('/') || new URL(path, 'http://localhost').pathname !== path) {
    throw new OAuthClientError('invalid_options', 'path must be a URL path such as /callback');
  }
  if (!(timeoutMs > 0 && timeoutMs <= MAX_TIMEOUT_MS)) {
    throw new OAuthClientError('invalid_options', 'timeoutMs must be a positive number of milliseconds');
  }
  const server = new LoopbackCallbackServer(path, timeoutMs, {
    success: options.successHtml ?? SUCCESS_HTML,
    failure: options.failureHtml ?? FAILURE_HTML,
  });
  await server.listen(port);
  return server;
}

class LoopbackCallbackServer implements CallbackServer {
  readonly #path: string;
  readonly #timeoutMs: number;
  readonly #pages: { readonly success: string; readonly failure: string };
  readonly #server: Server;
  readonly #waiters: Waiter[] = [];
  #host = '';
  #redirectUri = '';
  #closing: Promise<void> | undefined;

  constructor(path: string, timeoutMs: number, pages: { success: string; failure: string }) {
    this.#path = path;
    this.#timeoutMs = timeoutMs;
    this.#pages = pages;
    this.#server = createServer((request, response) => this.#handle(request, response));
  }

  get redirectUri(): string {
    return this.#redirectUri;
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (error: unknown) => {
        const code = systemErrorCode(error);
        const reason = code === undefined ? '' : ` (${code})`;
        reject(
          new OAuthClientError(
            'network_error',
            `the callback server could not listen on ${HOST}:${port}${reason}`,
          ),
        );
      };
      this.#server.once('error', onError);
      this.#server.listen({ host: HOST, port, exclusive: true }, () => {
        this.#server.off('error', onError);
        // Errors after this point (a failed accept) must not crash the application.
        this.#server.on('error', () => {});
        const actual = (this.#server.address() as AddressInfo).port;
        this.#host = `${HOST}:${actual}`;
        this.#redirectUri = `http://${this.#host}${this.#path}`;
        this.#updateRef();
        resolve();
      });
    });
  }

  waitForCallback(options: WaitForCallbackOptions): Promise<string> {
    const { state, signal } = options ?? {};
    if (typeof state !== 'string' || state === '') {
      return Promise.reject(
        new OAuthClientError(
          'invalid_options',
          'waitForCallback needs the "state" of the authorization request',
        ),
      );
    }
    if (this.#closing !== undefined) {
      return Promise.reject(new OAuthClientError('aborted', 'the callback server is closed'));
    }
    if (signal?.aborted) {
      return Promise.reject(
        new OAuthClientError('aborted', 'waiting for the authorization callback was aborted'),
      );
    }
    return new Promise<string>((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const index = this.#waiters.indexOf(waiter);
        if (index !== -1) this.#waiters.splice(index, 1);
        this.#updateRef();
      };
      const waiter: Waiter = {
        state,
        deliver: (url) => {
          finish();
          resolve(url);
        },
        fail: (error) => {
          finish();
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        waiter.fail(
          new OAuthClientError('timeout', `no authorization callback arrived within ${this.#timeoutMs} ms`),
        );
      }, this.#timeoutMs);
      const onAbort = () => {
        waiter.fail(new OAuthClientError('aborted', 'waiting for the authorization callback was aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
      this.#updateRef();
    });
  }

  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      for (const waiter of [...this.#waiters]) {
        waiter.fail(new OAuthClientError('aborted', 'the callback server was closed'));
      }
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
    return this.#closing;
  }

  #handle(request: IncomingMessage, response: ServerResponse): void {
    const answer = this.#answer(request);
    response.writeHead(answer.status, {
      ...SECURITY_HEADERS,
      ...answer.headers,
      'content-type': `${answer.html ? 'text/html' : 'text/plain'}; charset=utf-8`,
    });
    response.end(answer.body);
  }

  /** Decides the answer to one request, delivering it to a waiter when it is an awaited callback. */
  #answer(request: IncomingMessage): Answer {
    // The browser was sent to 127.0.0.1:<port>; any other Host is a DNS-rebinding attempt or a stray.
    if (request.headers.host !== this.#host) return { status: 400, body: 'Bad Request' };
    const target = request.url ?? '';
    // Origin-form only (`/path?query`): concatenation keeps the host ours whatever the path holds.
    const url = target.startsWith('/') ? new URL(`http://${this.#host}${target}`) : undefined;
    if (url === undefined || !this.#onPath(url.pathname)) return { status: 404, body: 'Not Found' };
    if (request.method !== 'GET')
      return { status: 405, body: 'Method Not Allowed', headers: { allow: 'GET' } };
    // A missing or unknown `state` (a stale tab, or a page forging `?error=access_denied`) is
    // answered and dropped: it neither resolves nor cancels anyone's wait.
    const state = url.searchParams.get('state');
    const waiter = state === null ? undefined : this.#waiters.find((candidate) => candidate.state === state);
    if (waiter === undefined) return { status: 400, body: this.#pages.failure, html: true };
    waiter.deliver(url.href);
    const succeeded = !url.searchParams.has('error') && url.searchParams.has('code');
    return { status: 200, body: succeeded ? this.#pages.success : this.#pages.failure, html: true };
  }

  /**
   * The redirect URI's path, or a path below it: the session gives each authorization server its
   * own redirect URI under the one configured (`/callback/as-…`, RFC 9700 §4.4.2), and checks that
   * a callback arrived on the one its request named.
   */
  #onPath(pathname: string): boolean {
    if (pathname === this.#path) return true;
    return pathname.startsWith(this.#path.endsWith('/') ? this.#path : `${this.#path}/`);
  }

  /** The server keeps the process alive only while someone waits for a callback. */
  #updateRef(): void {
    if (this.#waiters.length > 0) this.#server.ref();
    else this.#server.unref();
  }
}
