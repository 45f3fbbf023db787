// Child process entry: `{ token }` in, `{ url }` out on the first line; runs until it is sent
// SIGTERM or its parent goes away (its stdin closes).
import { listenTokenServer } from './token-server.js';

const { token } = JSON.parse(process.argv[2] ?? '{}') as { token: string };
const { server, url } = await listenTokenServer(token);
process.stdout.write(`${JSON.stringify({ url })}\n`);
const shutdown = () => {
  server.close();
  server.closeAllConnections();
  process.stdin.destroy();
};
process.on('SIGTERM', shutdown);
process.stdin.on('end', shutdown);
process.stdin.on('close', shutdown);
process.stdin.resume();
