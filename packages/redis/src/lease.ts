/**
 * The refresh lease: one process at a time, on any machine, renews a given grant.
 *
 * `withLease` waits for the lease (polling with a bounded, jittered backoff that never sleeps past
 * the holder's remaining time), keeps it alive while the task runs, and releases it with a
 * compare-and-delete. Writes made by the task go through `fencedWrite`, which succeeds only while
 * no newer lease exists: a holder that stalled past its lease while another process took over
 * cannot overwrite what that process stored. The task finds its lease through an
 * `AsyncLocalStorage`, so the engine's `TokenStore` interface needs no extra argument.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { delay, type RedisCommands, replyInteger } from './commands.js';
import { storeFailed } from './errors.js';
import type { TokenKeys } from './records.js';
import { ACQUIRE, FENCED_WRITE, RELEASE, RENEW } from './scripts.js';

export interface LeaseOptions {
  /** How long a lease outlives a holder that stopped renewing it. */
  readonly leaseMs: number;
  /** How long to wait for another holder before `store_failed`. */
  readonly timeoutMs: number;
}

/** The lease a running task holds, as its writes see it. */
export interface HeldLease {
  /** Which store took it, and for which engine key: writes elsewhere are not fenced by it. */
  readonly owner: object;
  readonly key: string;
  readonly keys: TokenKeys;
  readonly fence: number;
  readonly value: string;
  readonly leaseMs: number;
  /** Set once released: a write after that (from a task's straggler) is an ordinary write. */
  released: boolean;
}

const current = new AsyncLocalStorage<HeldLease>();

/** The lease the calling task holds on `key` through `owner`, if any. */
export function heldLease(owner: object, key: string): HeldLease | undefined {
  const lease = current.getStore();
  return lease !== undefined && lease.owner === owner && lease.key === key && !lease.released
    ? lease
    : undefined;
}

export async function withLease<R>(
  commands: RedisCommands,
  owner: object,
  key: string,
  keys: TokenKeys,
  options: LeaseOptions,
  task: () => Promise<R>,
): Promise<R> {
  const lease = await acquire(commands, owner, key, keys, options);
  const renewal = setInterval(
    () => {
      commands
        .eval(RENEW, [keys.lease], [lease.value, String(options.leaseMs)], 'renewing the refresh lease')
        .catch(() => {
          // Redis unreachable for a moment: the next renewal or the fenced write decides.
        });
    },
    Math.max(10, Math.floor(options.leaseMs / 3)),
  );
  renewal.unref();
  try {
    return await current.run(lease, task);
  } finally {
    lease.released = true;
    clearInterval(renewal);
    try {
      await commands.eval(RELEASE, [keys.lease], [lease.value], 'releasing the refresh lease');
    } catch {
      // Left behind, the lease expires within leaseMs; the task's own outcome matters more.
    }
  }
}

async function acquire(
  commands: RedisCommands,
  owner: object,
  key: string,
  keys: TokenKeys,
  options: LeaseOptions,
): Promise<HeldLease> {
  const id = randomUUID();
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    const reply = await commands.eval(
      ACQUIRE,
      [keys.lease, keys.fence],
      [id, String(options.leaseMs)],
      'acquiring the refresh lease',
    );
    const [acquired, number] = pair(reply);
    if (acquired === 1) {
      return {
        owner,
        key,
        keys,
        fence: number,
        value: `${number}:${id}`,
        leaseMs: options.leaseMs,
        released: false,
      };
    }
    const waited = Date.now() - started;
    if (waited >= options.timeoutMs) {
      throw storeFailed(
        `timed out after ${options.timeoutMs} ms waiting for the refresh lease ${keys.lease}, which ` +
          'another process holds and keeps renewing (a dead holder loses it within leaseMs)',
      );
    }
    // `number` is the holder's remaining time: wake when it lapses if that comes first.
    await delay(Math.max(1, Math.min(backoff(attempt), number, options.timeoutMs - waited)));
  }
}

/** Writes (or deletes, for `value` undefined) the token record under the lease; false when fenced off. */
export async function fencedWrite(
  commands: RedisCommands,
  lease: HeldLease,
  value: string | undefined,
): Promise<boolean> {
  const reply = await commands.eval(
    FENCED_WRITE,
    [lease.keys.lease, lease.keys.fence, lease.keys.record],
    [...leaseArguments(lease), value === undefined ? 'delete' : 'set', value ?? ''],
    value === undefined ? 'deleting the token record' : 'writing the token record',
  );
  return replyInteger(reply, 'writing the token record') === 1;
}

function leaseArguments(lease: HeldLease): string[] {
  return [lease.value, String(lease.fence), String(lease.leaseMs)];
}

function pair(reply: unknown): [number, number] {
  if (!Array.isArray(reply) || reply.length !== 2) {
    throw storeFailed('acquiring the refresh lease failed: Redis answered with an unexpected reply');
  }
  return [
    replyInteger(reply[0], 'acquiring the refresh lease'),
    replyInteger(reply[1], 'acquiring the refresh lease'),
  ];
}

/** 5, 10, 20, 40, 80, 100, 100… ms, each with jitter so that waiting processes do not poll in step. */
function backoff(attempt: number): number {
  const base = Math.min(100, 5 * 2 ** attempt);
  return base / 2 + Math.random() * (base / 2);
}
