/**
 * Every Redis command the stores send goes through here: one deadline per operation, retries
 * while the connection is down or Redis is still loading its data, scripts by SHA with a fallback
 * to their source (a restarted Redis has forgotten them), and failures as `store_failed`.
 */
import { createHash } from 'node:crypto';
import { describeRedisError, isReplyError, replyErrorPrefix, storeFailed } from './errors.js';

/**
 * What the stores need from a Redis client: node-redis's `sendCommand`. A connected node-redis
 * client (`createClient(…).connect()`) is one as it is; any other client fits behind a
 * one-line wrapper (see the README).
 *
 * The stores pass `timeout` (milliseconds) so that a command still queued when the operation's
 * deadline passes is dropped; a client that ignores it is bounded all the same.
 */
export interface RedisClient {
  sendCommand(args: string[], options?: { timeout?: number }): Promise<unknown>;
}

/** A Lua script, sent by SHA1 and, when Redis does not know it (`NOSCRIPT`), by its source. */
export interface Script {
  readonly source: string;
  readonly sha: string;
}

export function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

export interface CallOptions {
  /**
   * Send again after a lost connection or a transient Redis error. Only for commands that are
   * safe to repeat: a first attempt may have run even though its reply was lost.
   */
  readonly retry: boolean;
}

/** Redis answers these while it cannot serve yet; the same command succeeds a moment later. */
const TRANSIENT_REPLIES = new Set(['LOADING', 'BUSY', 'TRYAGAIN', 'MASTERDOWN', 'CLUSTERDOWN', 'READONLY']);

export class RedisCommands {
  readonly #client: RedisClient;
  readonly #timeoutMs: number;

  constructor(client: RedisClient, timeoutMs: number) {
    this.#client = client;
    this.#timeoutMs = timeoutMs;
  }

  /** Runs one command. `operation` names it in errors ("reading the token record …"). */
  call(args: string[], operation: string, options: CallOptions = { retry: true }): Promise<unknown> {
    return this.#run(args, undefined, operation, options);
  }

  /** Runs a script with `keys` and `args` (EVALSHA, then EVAL when Redis does not have it). */
  eval(
    code: Script,
    keys: readonly string[],
    args: readonly string[],
    operation: string,
    options: CallOptions = { retry: true },
  ): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    return this.#run(['EVALSHA', code.sha, ...tail], ['EVAL', code.source, ...tail], operation, options);
  }

  async #run(
    first: string[],
    ifUnknownScript: string[] | undefined,
    operation: string,
    options: CallOptions,
  ): Promise<unknown> {
    const deadline = Date.now() + this.#timeoutMs;
    let args = first;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#send(args, deadline - Date.now());
      } catch (error) {
        const kind = classify(error);
        if (kind === 'closed') {
          throw storeFailed(`${operation} failed: the Redis client is closed (connect it first)`);
        }
        if (kind === 'unknown-script' && ifUnknownScript !== undefined && args !== ifUnknownScript) {
          args = ifUnknownScript; // a restarted Redis has an empty script cache
          continue;
        }
        if (kind !== 'transient' || !options.retry) throw storeFailed(`${operation} failed`, error);
        const left = deadline - Date.now();
        if (left <= 0) {
          throw storeFailed(`${operation} failed: Redis did not answer within ${this.#timeoutMs} ms`, error);
        }
        await delay(Math.min(left, backoff(attempt)));
      }
    }
  }

  /** One attempt, given up after `ms` even if the client ignores the `timeout` option. */
  #send(args: string[], ms: number): Promise<unknown> {
    const timeout = Math.max(1, Math.ceil(ms));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new CommandTimeoutError()), timeout + 50);
    });
    const sent = this.#client.sendCommand(args, { timeout });
    return Promise.race([sent, expired]).finally(() => clearTimeout(timer));
  }
}

class CommandTimeoutError extends Error {}

type Failure = 'closed' | 'unknown-script' | 'reply' | 'transient';

function classify(error: unknown): Failure {
  const name = describeRedisError(error);
  if (name === 'ClientClosedError') return 'closed';
  if (isReplyError(error)) {
    const prefix = replyErrorPrefix(error);
    if (prefix === 'NOSCRIPT') return 'unknown-script';
    return prefix !== undefined && TRANSIENT_REPLIES.has(prefix) ? 'transient' : 'reply';
  }
  // A lost or refused connection, a command timeout, the client reconnecting: try again.
  return 'transient';
}

/** 20, 40, 80, 160, 250, 250… ms with jitter, so that many processes do not retry in step. */
function backoff(attempt: number): number {
  const base = Math.min(250, 20 * 2 ** attempt);
  return base / 2 + Math.random() * (base / 2);
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A bulk-string reply as text: `undefined` for nil; anything else is a protocol surprise. */
export function replyText(reply: unknown, operation: string): string | undefined {
  if (reply === null || reply === undefined) return undefined;
  if (typeof reply === 'string') return reply;
  if (reply instanceof Uint8Array) return new TextDecoder().decode(reply);
  throw storeFailed(`${operation} failed: Redis answered with an unexpected reply type`);
}

/** An integer reply (RESP2 and RESP3 both give a number; a client may map it to a bigint or string). */
export function replyInteger(reply: unknown, operation: string): number {
  const value =
    typeof reply === 'number'
      ? reply
      : typeof reply === 'bigint' || (typeof reply === 'string' && /^-?\d+$/.test(reply))
        ? Number(reply)
        : Number.NaN;
  if (!Number.isSafeInteger(value)) {
    throw storeFailed(`${operation} failed: Redis answered with an unexpected reply type`);
  }
  return value;
}
