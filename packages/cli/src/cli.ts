/** The `mcp-oauth` executable. */
import process from 'node:process';
import { main } from './main.js';

const controller = new AbortController();
let interrupts = 0;
const interrupt = () => {
  // A second Ctrl-C while shutting down ends the process at once.
  if (++interrupts > 1) process.exit(130);
  controller.abort();
};
process.on('SIGINT', interrupt);
process.on('SIGTERM', interrupt);
// A host that goes away closes stdout: stop instead of crashing on EPIPE.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') controller.abort();
});

const code = await main({
  argv: process.argv.slice(2),
  env: process.env,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  signal: controller.signal,
});
process.exitCode = code;
// Open sockets (keep-alive connections to the server) must not keep a finished command alive.
setTimeout(() => process.exit(code), 200).unref();
