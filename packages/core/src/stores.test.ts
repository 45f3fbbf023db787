import { describe, expect, it } from 'vitest';
import { KeyedQueue, MemoryPendingAuthorizationStore, MemoryTokenStore } from './stores.js';
import type { PendingAuthorization } from './types.js';

function deferred() {
  let release: () => void = () => {};
  const promise = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { promise, release };
}

describe('KeyedQueue', () => {
  it('runs tasks of one key one at a time, in arrival order, and keys independently', async () => {
    const queue = new KeyedQueue();
    const events: string[] = [];
    const gate = deferred();
    const first = queue.run('a', async () => {
      events.push('a1 start');
      await gate.promise;
      events.push('a1 end');
      return 1;
    });
    const second = queue.run('a', async () => {
      events.push('a2');
      return 2;
    });
    const other = queue.run('b', async () => {
      events.push('b1');
      return 3;
    });
    expect(await other).toBe(3);
    expect(events).toEqual(['a1 start', 'b1']);
    gate.release();
    expect(await Promise.all([first, second])).toEqual([1, 2]);
    expect(events).toEqual(['a1 start', 'b1', 'a1 end', 'a2']);
  });

  it('a failed task rejects its caller and does not block the next', async () => {
    const queue = new KeyedQueue();
    const failed = queue.run('k', async () => {
      throw new Error('boom');
    });
    const next = queue.run('k', async () => 'ok');
    await expect(failed).rejects.toThrow('boom');
    expect(await next).toBe('ok');
  });
});

describe('memory stores', () => {
  it('MemoryTokenStore.lock serialises per key', async () => {
    const store = new MemoryTokenStore();
    const order: number[] = [];
    await Promise.all(
      [1, 2, 3].map((n) =>
        store.lock('k', async () => {
          order.push(n);
          await Promise.resolve();
          order.push(-n);
        }),
      ),
    );
    expect(order).toEqual([1, -1, 2, -2, 3, -3]);
  });

  it('MemoryPendingAuthorizationStore.take returns a record once', async () => {
    const store = new MemoryPendingAuthorizationStore();
    const record = { state: 's' } as PendingAuthorization;
    await store.set('s', record);
    expect(await store.take('s')).toBe(record);
    expect(await store.take('s')).toBeUndefined();
  });
});
