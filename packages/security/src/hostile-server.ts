/**
 * A scriptable hostile HTTP server on 127.0.0.1. It can play a protected resource, an authorization
 * server, or an attacker's origin: every response is a script chosen per test (status, headers,
 * body, a delay, a partial body followed by a reset, an endless body, a hang), and every request is
 * recorded (method, URL, headers, body) together with how it ended, so tests can assert exactly what
 * the client sent — and what it never sent.
 *
 * A server can also carry a public name (`https://mcp.example.com`): it still listens on 127.0.0.1
 * only, and the suite's guarded fetch (see `guarded-fetch.ts`) carries requests for that name to
 * it, so the client judges the server by a public name without any traffic leaving the machine.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request as the server received it. */
export interface RecordedRequest {
  readonly method: string;
  /** Absolute URL, query included. */
  readonly url: string;
  readonly path: string;
  /** Lower-case names; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  /** The body as UTF-8 text (`''` when there was none). */
  readonly body: string;
  /** The form parameters of an `application/x-www-form-urlencoded` body. */
  readonly form: URLSearchParams;
  /** `answered` once the whole response was handed to the socket; `abandoned` when the client left first. */
  readonly outcome: 'pending' | 'answered' | 'abandoned';
}

/** A response as data. */
export interface Reply {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  /** Wait this long before writing anything (the client may give up first). */
  readonly delayMs?: number;
  /** Announce this `content-length`, send `body`, then destroy the socket (a truncated body). */
  readonly declaredLength?: number;
  /** After `body`, keep streaming filler until the client goes away (a body with no end). */
  readonly endless?: boolean;
  /** Called once the response has been handed to the socket. */
  readonly afterSend?: () => void;
}

/** `hang`: never answer. `reset`: destroy the connection without answering. */
export type Script = Reply | 'hang' | 'reset';

export type Handler = (request: RecordedRequest) => Script | Promise<Script>;

interface Route {
  readonly method: string;
  readonly path: string;
  readonly handler: Handler;
  remaining: number;
}

export interface HostileServer {
  /** `http://127.0.0.1:PORT`, or `https://<name>` for a server started with a public name. */
  readonly origin: string;
  /** `http://127.0.0.1:PORT`: where the server really listens. */
  readonly loopbackOrigin: string;
  url(path: string): string;
  /**
   * Answers `method path` (method `*` for any) with `script`. The route added last wins, so a test
   * overrides a default by adding its own; with `times`, the route is used that often, then skipped.
   */
  route(method: string, path: string, script: Script | Handler, options?: { times?: number }): void;
  /** Every request received, in order of arrival. */
  readonly requests: readonly RecordedRequest[];
  requestsTo(path: string, method?: string): RecordedRequest[];
  /** `METHOD /path` of every request, in order: what the client sent, at a glance. */
  summary(): string[];
  /** TCP connections accepted so far (0 proves the client never connected). */
  readonly connections: number;
  close(): Promise<void>;
}

/** A JSON reply. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

/** A redirect to `location` (307 keeps the method and body). */
export function redirect(location: string, status = 307): Reply {
  return { status, headers: { location } };
}

function flattenHeaders(message: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

async function readBody(message: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of message as AsyncIterable<Buffer>) chunks.push(chunk);
  } catch {
    // The client went away mid-body; what arrived is recorded.
  }
  return Buffer.concat(chunks).toString('utf8');
}

function delay(ms: number, response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    response.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

const FILLER = Buffer.alloc(16 * 1024, 0x20);

function write(response: ServerResponse, reply: Reply): void {
  const body = reply.body ?? '';
  const length = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
  if (reply.endless === true) {
    response.writeHead(reply.status, { ...reply.headers });
    response.write(body);
    const pump = () => {
      while (!response.destroyed && response.write(FILLER)) {
        // keep writing until the socket pushes back, then wait for 'drain'
      }
    };
    response.on('drain', pump);
    pump();
    return;
  }
  if (reply.declaredLength !== undefined) {
    response.writeHead(reply.status, { ...reply.headers, 'content-length': String(reply.declaredLength) });
    response.write(body, () => {
      // Give the bytes a moment on the wire, then cut the connection mid-body.
      setTimeout(() => response.socket?.destroy(), 20);
    });
    return;
  }
  const headers = { ...reply.headers };
  if (!Object.keys(headers).some((name) => name.toLowerCase() === 'content-length')) {
    headers['content-length'] = String(length);
  }
  response.writeHead(reply.status, headers);
  response.end(body);
}

export interface HostileServerOptions {
  /** A public host name the server goes by (`mcp.example.com`): its `origin` is `https://<name>`. */
  readonly name?: string;
}

/** Starts a hostile server on 127.0.0.1 (and nowhere else) on an ephemeral port. */
export async function startHostileServer(options: HostileServerOptions = {}): Promise<HostileServer> {
  const routes: Route[] = [];
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  let origin = '';

  const find = (method: string, path: string): Route | undefined => {
    for (let index = routes.length - 1; index >= 0; index--) {
      const route = routes[index]!;
      if (route.remaining <= 0) continue;
      if (route.path === path && (route.method === '*' || route.method === method)) return route;
    }
    return undefined;
  };

  const server: Server = createServer((message, response) => {
    void (async () => {
      const url = new URL(message.url ?? '/', origin);
      const body = await readBody(message);
      const record: { -readonly [K in keyof RecordedRequest]: RecordedRequest[K] } = {
        method: message.method ?? 'GET',
        url: url.href,
        path: url.pathname,
        headers: flattenHeaders(message),
        body,
        form: new URLSearchParams(body),
        outcome: 'pending',
      };
      requests.push(record);
      response.once('close', () => {
        if (record.outcome === 'pending') record.outcome = 'abandoned';
      });
      const route = find(record.method, record.path);
      if (route !== undefined) route.remaining--;
      const script: Script =
        route === undefined ? json(404, { error: 'not_found' }) : await route.handler(record);
      if (script === 'hang') return;
      if (script === 'reset') {
        response.socket?.destroy();
        return;
      }
      if (script.delayMs !== undefined) await delay(script.delayMs, response);
      if (response.destroyed) return;
      response.once('finish', () => {
        record.outcome = 'answered';
        script.afterSend?.();
      });
      write(response, script);
    })().catch(() => {
      response.socket?.destroy();
    });
  });
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const loopbackOrigin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  origin = options.name === undefined ? loopbackOrigin : `https://${options.name}`;

  return {
    origin,
    loopbackOrigin,
    url: (path) => `${origin}${path}`,
    route(method, path, script, options = {}) {
      const handler: Handler = typeof script === 'function' ? script : () => script;
      routes.push({ method, path, handler, remaining: options.times ?? Number.POSITIVE_INFINITY });
    },
    requests,
    requestsTo: (path, method) =>
      requests.filter(
        (request) => request.path === path && (method === undefined || request.method === method),
      ),
    summary: () => requests.map((request) => `${request.method} ${request.path}`),
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
