/**
 * The overhead and memory server: a minimal `node:http` server on 127.0.0.1 that accepts one bearer
 * token. It reads each request body and answers a small JSON-RPC result, or a 401 with a challenge.
 * It runs in a process of its own (token-server-main.ts), so that its work is not counted as the
 * client's.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const TOKEN_SERVER_PATH = '/mcp';
const RESULT = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { tools: [] } });

export async function listenTokenServer(token: string): Promise<{ server: Server; url: string }> {
  const expected = `Bearer ${token}`;
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      if (request.headers.authorization !== expected) {
        response.writeHead(401, {
          'www-authenticate': 'Bearer error="invalid_token"',
          'content-length': '0',
        });
        response.end();
        return;
      }
      response.writeHead(200, {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(RESULT)),
      });
      response.end(RESULT);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}${TOKEN_SERVER_PATH}` };
}
