// Test-only: an HTTP server on 127.0.0.1 with an ephemeral port, and a close that leaves nothing open.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens before the application exists, so the application can be built knowing its own origin. */
export async function listenOnLoopback(): Promise<{ server: Server; origin: string }> {
  const server = createServer();
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
