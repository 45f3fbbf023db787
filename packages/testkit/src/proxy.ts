/**
 * A forward proxy on 127.0.0.1 for tests of `HTTP_PROXY`/`HTTPS_PROXY` support: CONNECT tunnels
 * (what undici opens, for `http:` targets too) and absolute-form requests. Tunnelled `http:`
 * traffic is plain text, so it notes the request line of each request it carries: a test can tell
 * which requests went through it. It forwards to 127.0.0.1 only.
 */
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { closeServer, listenOnLoopback } from './recording.js';

export interface TestProxy {
  /** `http://127.0.0.1:PORT`, for `HTTP_PROXY`. */
  readonly url: string;
  /** `CONNECT 127.0.0.1:PORT`, once per tunnel opened. */
  readonly tunnels: readonly string[];
  /** `METHOD /path` (no query) of each request that went through, tunnelled or forwarded. */
  readonly requests: readonly string[];
  close(): Promise<void>;
}

const REQUEST_LINE = /(?:^|\r\n)([A-Z]+) (\/\S*) HTTP\/1\.1\r\n/g;

export async function startTestProxy(): Promise<TestProxy> {
  const tunnels: string[] = [];
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const { server, origin } = await listenOnLoopback((request, response) => {
    const target = new URL(request.url ?? '/', 'http://invalid');
    if (target.hostname !== '127.0.0.1') return void response.writeHead(403).end();
    requests.push(`${request.method} ${target.pathname}`);
    const upstream = httpRequest(target, { method: request.method, headers: request.headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    upstream.on('error', () => response.destroy());
    request.pipe(upstream);
  });
  server.on('connect', (request, client: Socket, head: Buffer) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    const port = /^127\.0\.0\.1:(\d+)$/.exec(request.url ?? '')?.[1];
    if (port === undefined) return void client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    tunnels.push(`CONNECT ${request.url}`);
    const note = (chunk: Buffer) => {
      for (const line of chunk.toString('latin1').matchAll(REQUEST_LINE)) {
        requests.push(`${line[1]} ${new URL(line[2] ?? '/', 'http://invalid').pathname}`);
      }
    };
    const upstream = connect(Number(port), '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) {
        note(head);
        upstream.write(head);
      }
      client.on('data', note);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  return {
    url: origin,
    tunnels,
    requests,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await closeServer(server);
    },
  };
}
