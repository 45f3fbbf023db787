import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type DpopClaims, decodeDpopProof } from './dpop.js';

/** One request as a test server received it. */
export interface RecordedRequest {
  readonly method: string;
  /** Absolute URL, query included. */
  readonly url: string;
  readonly path: string;
  /** `?…` or `''`. */
  readonly search: string;
  /** Lower-case names; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  /** The exact body bytes (empty when there was none). */
  readonly body: Uint8Array;
  /** `body` decoded as UTF-8. */
  readonly text: string;
  /** False when the client went away before the body ended. */
  readonly complete: boolean;
  /** The `DPoP` header's claims, decoded without verification. */
  readonly dpop: DpopClaims | undefined;
  /** The status the server answered with; `undefined` while held, or when the client left first. */
  readonly status: number | undefined;
}

export type MutableRecord = { -readonly [K in keyof RecordedRequest]: RecordedRequest[K] };

export function flattenHeaders(message: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) {
    if (value === undefined) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

export async function readRequest(message: IncomingMessage, origin: string): Promise<MutableRecord> {
  const chunks: Buffer[] = [];
  let complete = true;
  try {
    for await (const chunk of message as AsyncIterable<Buffer>) chunks.push(chunk);
  } catch {
    complete = false;
  }
  if (!message.complete) complete = false;
  const body = new Uint8Array(Buffer.concat(chunks));
  const url = new URL(message.url ?? '/', origin);
  const headers = flattenHeaders(message);
  return {
    method: message.method ?? 'GET',
    url: url.href,
    path: url.pathname,
    search: url.search,
    headers,
    body,
    text: Buffer.from(body).toString('utf8'),
    complete,
    dpop: headers.dpop === undefined ? undefined : decodeDpopProof(headers.dpop),
    status: undefined,
  };
}

/** A reply as data: written by {@link writeReply}. `endless` streams chunks until the client leaves. */
export interface Reply {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  readonly endless?: boolean;
}

export function jsonReply(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

export function writeReply(response: ServerResponse, reply: Reply): void {
  if (reply.endless) {
    response.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
    const chunk = Buffer.alloc(16 * 1024, 0x20);
    const pump = () => {
      while (!response.destroyed && response.write(chunk)) {
        // keep writing until the socket pushes back
      }
    };
    response.on('drain', pump);
    pump();
    return;
  }
  const body = reply.body ?? '';
  response.writeHead(reply.status, {
    ...reply.headers,
    'content-length': String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength),
  });
  response.end(body);
}

/** Resolves once the connection of a response not yet sent has closed: the client went away. */
export function clientGone(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    if (response.destroyed) resolve();
    response.on('close', () => resolve());
  });
}

/**
 * Holds requests until released: the way tests keep a token request (or any request) in flight.
 * Requests arriving after `release()` pass straight through.
 */
export interface Gate {
  /** Resolves when the first held request has arrived. */
  readonly reached: Promise<void>;
  /** Resolves when a held request's client has gone away (aborted or timed out). */
  readonly abandoned: Promise<void>;
  /** How many requests are waiting now. */
  readonly held: number;
  release(): void;
}

export class HoldGate implements Gate {
  readonly reached: Promise<void>;
  readonly abandoned: Promise<void>;
  #held = 0;
  #released = false;
  #open!: () => void;
  #opened: Promise<void>;
  #arrive!: () => void;
  #abandon!: () => void;

  constructor() {
    this.reached = new Promise((resolve) => {
      this.#arrive = resolve;
    });
    this.abandoned = new Promise((resolve) => {
      this.#abandon = resolve;
    });
    this.#opened = new Promise((resolve) => {
      this.#open = resolve;
    });
  }

  get held(): number {
    return this.#held;
  }

  get released(): boolean {
    return this.#released;
  }

  release(): void {
    this.#released = true;
    this.#open();
  }

  /** Waits for release; returns false when the client went away first. */
  async pass(response: ServerResponse): Promise<boolean> {
    if (this.#released) return true;
    this.#held++;
    this.#arrive();
    let gone = false;
    await Promise.race([
      this.#opened,
      clientGone(response).then(() => {
        gone = true;
        this.#abandon();
      }),
    ]);
    this.#held--;
    return !gone;
  }
}

/**
 * Starts a server on 127.0.0.1 (and nowhere else) on an ephemeral port. Without `handler`, attach
 * one later: the origin is then known before the application that serves it is built.
 */
export async function listenOnLoopback(
  handler?: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<{ server: Server; origin: string }> {
  const server = handler === undefined ? createServer() : createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return { server, origin: `http://127.0.0.1:${port}` };
}

/** Stops accepting, then drops keep-alive and streaming connections so `close` can finish. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error === undefined ? resolve() : reject(error)));
    server.closeAllConnections();
  });
}

/** The body every echoing endpoint answers with. */
export interface EchoBody {
  readonly method: string;
  readonly path: string;
  readonly search: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The request body, base64. */
  readonly body: string;
}

export function echoReply(record: RecordedRequest): Reply {
  const echo: EchoBody = {
    method: record.method,
    path: record.path,
    search: record.search,
    headers: record.headers,
    body: Buffer.from(record.body).toString('base64'),
  };
  return jsonReply(200, echo);
}
