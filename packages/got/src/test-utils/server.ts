import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Seen {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface Reply {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
}

export interface LoopbackServer {
  readonly origin: string;
  readonly seen: Seen[];
  /** Decides each reply; the default answers 200 `ok`. */
  reply: (request: Seen, response: ServerResponse) => Reply | undefined;
  close(): Promise<void>;
}

/** A recording HTTP server on 127.0.0.1 whose replies each test scripts. */
export async function startServer(): Promise<LoopbackServer> {
  const server = createServer();
  const state: LoopbackServer = {
    origin: '',
    seen: [],
    reply: () => ({ status: 200, body: 'ok' }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  server.on('request', (message, response) => {
    const chunks: Buffer[] = [];
    message.on('data', (chunk: Buffer) => chunks.push(chunk));
    message.on('end', () => {
      const seen: Seen = {
        method: message.method ?? 'GET',
        path: message.url ?? '/',
        headers: message.headers,
        body: Buffer.concat(chunks),
      };
      state.seen.push(seen);
      const reply = state.reply(seen, response);
      if (reply === undefined) return; // the test answers (or never answers) itself
      response.writeHead(reply.status, reply.headers);
      response.end(reply.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(state, { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
}
