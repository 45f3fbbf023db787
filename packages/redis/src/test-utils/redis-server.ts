/**
 * A real redis-server for tests and the bench: on 127.0.0.1, on a free port, in a temporary
 * directory, without persistence unless asked to restart (then `SHUTDOWN SAVE` writes the data
 * and the new server loads it, as a production Redis with persistence would).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Saves the data, stops the server, and starts a new one on the same port that loads it. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Debian's package path, else `redis-server` on the PATH (`REDIS_SERVER` overrides both). */
function binary(): string {
  if (process.env.REDIS_SERVER !== undefined) return process.env.REDIS_SERVER;
  return existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : 'redis-server';
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port was assigned');
  return address.port;
}

/** Starts redis-server and resolves once it accepts connections. */
function launch(port: number, directory: string): Promise<ChildProcess> {
  const child = spawn(
    binary(),
    [
      '--bind',
      '127.0.0.1',
      '--port',
      String(port),
      '--dir',
      directory,
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
      '--loglevel',
      'notice',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes('Ready to accept connections')) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        child.off('exit', onExit);
        resolve(child);
      }
    };
    const onExit = (code: number | null) => {
      reject(new Error(`redis-server exited with ${code} before it was ready:\n${output.slice(-2000)}`));
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.once('exit', onExit);
    child.once('error', (error) =>
      reject(
        new Error(
          `redis-server could not be started (${(error as NodeJS.ErrnoException).code}): ` +
            'install it (Debian: apt-get install redis-server) or set REDIS_SERVER',
        ),
      ),
    );
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** `SHUTDOWN SAVE` over a bare socket: the server writes dump.rdb, then exits. */
async function shutdownSaving(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const socket = new Socket();
    socket.once('error', reject);
    socket.once('close', () => resolve());
    socket.connect(port, '127.0.0.1', () => socket.end('*2\r\n$8\r\nSHUTDOWN\r\n$4\r\nSAVE\r\n'));
  });
}

export async function startRedisServer(): Promise<RedisServer> {
  const directory = await mkdtemp(join(tmpdir(), 'mcp-oauth-redis-'));
  let port = 0;
  let child: ChildProcess | undefined;
  for (let attempt = 0; child === undefined; attempt++) {
    port = await freePort();
    try {
      child = await launch(port, directory);
    } catch (error) {
      // Another process took the port between our check and redis-server's bind: try another.
      if (attempt >= 2 || !String(error).includes('Address already in use')) {
        await rm(directory, { recursive: true, force: true });
        throw error;
      }
    }
  }
  let running: ChildProcess = child;
  let stopped = false;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async restart() {
      const done = exited(running);
      await shutdownSaving(port);
      await done;
      running = await launch(port, directory);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      const done = exited(running);
      running.kill('SIGTERM');
      await done;
      await rm(directory, { recursive: true, force: true });
    },
  };
}
