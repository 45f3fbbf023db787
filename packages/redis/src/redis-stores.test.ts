import { inspect } from 'node:util';
import { isOAuthClientError, type OAuthClientError, tokenKey } from '@mcp-oauth/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStores, type RedisStores, type RedisStoresOptions } from './index.js';
import { RENEW } from './scripts.js';
import {
  CLIENT,
  connect,
  DISCOVERY,
  ISSUER,
  KEY,
  pending,
  RESOURCE,
  type TestClient,
  tokens,
} from './test-utils/fixtures.js';
import { type RedisServer, startRedisServer } from './test-utils/redis-server.js';

let server: RedisServer;
let redis: TestClient;
let other: TestClient;
let prefixes = 0;

beforeAll(async () => {
  server = await startRedisServer();
  redis = await connect(server.url);
  other = await connect(server.url);
});

afterAll(async () => {
  redis?.destroy();
  other?.destroy();
  await server?.stop();
});

/** Each test gets its own prefix: its keys are its own. */
function stores(options: Partial<RedisStoresOptions> = {}, client: TestClient = redis): RedisStores {
  return createRedisStores({ client, prefix: `test-${process.pid}-${++prefixes}`, ...options });
}

async function keysOf(prefix: string): Promise<string[]> {
  return (await redis.keys(`${prefix}:*`)).sort();
}

async function failure(promise: Promise<unknown>): Promise<OAuthClientError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isOAuthClientError(error)) throw new Error(`expected an OAuthClientError, got ${inspect(error)}`);
  return error;
}

function expectNoSecret(error: unknown): void {
  const rendered = `${(error as Error).message} ${JSON.stringify(error)} ${inspect(error, { depth: 5 })}`;
  expect(rendered).not.toContain('SECRET');
}

const RAW_KEY = new Uint8Array(32).fill(7);
const NEW_KEY = new Uint8Array(32).fill(9);

describe('records', () => {
  it('reads back what it wrote, in each of the four stores, and forgets what it deletes', async () => {
    const s = stores();
    await s.tokens.set(KEY, tokens());
    await s.clients.set(ISSUER, CLIENT);
    await s.discovery.set(RESOURCE, DISCOVERY);
    const authorization = pending('state-1');
    await s.pending.set('state-1', authorization);
    expect(await s.tokens.get(KEY)).toEqual(tokens());
    expect(await s.clients.get(ISSUER)).toEqual(CLIENT);
    expect(await s.discovery.get(RESOURCE)).toEqual(DISCOVERY);
    expect(await s.pending.get('state-1')).toEqual(authorization);
    await s.tokens.delete(KEY);
    await s.clients.delete(ISSUER);
    await s.discovery.delete(RESOURCE);
    await s.pending.delete('state-1');
    expect(await s.tokens.get(KEY)).toBeUndefined();
    expect(await s.clients.get(ISSUER)).toBeUndefined();
    expect(await s.discovery.get(RESOURCE)).toBeUndefined();
    expect(await keysOf(s.prefix)).toEqual([]);
  });

  it('keeps applications apart by prefix and grants apart by (issuer, resource, client)', async () => {
    const a = stores();
    const b = stores();
    await a.tokens.set(KEY, tokens('access-a'));
    expect(await b.tokens.get(KEY)).toBeUndefined();
    const variants = [
      tokenKey('https://other-as.example', RESOURCE, 'client-1'),
      tokenKey(ISSUER, 'https://mcp.example/other', 'client-1'),
      tokenKey(ISSUER, RESOURCE, 'client-2'),
    ];
    for (const [index, key] of variants.entries()) await a.tokens.set(key, tokens(`access-${index}`));
    expect(await a.tokens.get(KEY)).toMatchObject({ accessToken: 'access-a' });
    for (const [index, key] of variants.entries()) {
      expect(await a.tokens.get(key)).toMatchObject({ accessToken: `access-${index}` });
    }
    const keys = await keysOf(a.prefix);
    expect(keys).toHaveLength(4);
    // The keys of one grant share a hash tag, so the lease scripts can run on a cluster too.
    for (const key of keys) expect(key).toMatch(new RegExp(`^${a.prefix}:tokens:\\{[0-9a-f]{64}\\}$`));
  });

  it('says what each record belongs to, and holds values in plain JSON without encryption', async () => {
    const s = stores();
    await s.tokens.set(KEY, tokens());
    const [key] = await keysOf(s.prefix);
    expect(JSON.parse((await redis.get(key!))!)).toEqual({ v: 1, key: KEY, value: tokens() });
  });

  it('reports a damaged or foreign record as store_failed naming the key, not its content', async () => {
    const s = stores();
    await s.tokens.set(KEY, tokens());
    const [key] = await keysOf(s.prefix);
    const damaged = [
      '{"v":1,"key":"x","value":{"accessToken":"access-SECRET"',
      JSON.stringify({ v: 2, key: KEY, value: tokens() }),
      JSON.stringify({ v: 1, key: 'another key', value: tokens() }),
      JSON.stringify({ v: 1, key: KEY, value: 'access-SECRET' }),
      JSON.stringify({ v: 1, key: KEY }),
    ];
    for (const value of damaged) {
      await redis.set(key!, value);
      const error = await failure(s.tokens.get(KEY));
      expect(error.code).toBe('store_failed');
      expect(error.message).toContain(key);
      expectNoSecret(error);
    }
    await redis.del(key!);
    await redis.hSet(key!, 'field', 'access-SECRET');
    const wrongType = await failure(s.tokens.get(KEY));
    expect(wrongType.message).toMatch(/failed \(WRONGTYPE\)$/);
    expectNoSecret(wrongType);
  });
});

describe('pending authorizations', () => {
  it('expire in Redis when the authorization does', async () => {
    const s = stores();
    await s.pending.set('state-1', pending('state-1', 60_000));
    const [key] = await keysOf(s.prefix);
    const ttl = await redis.pTTL(key!);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    // An authorization that has already expired is written with a 1 ms TTL: gone by the next read.
    await s.pending.set('state-2', pending('state-2', -1_000));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await s.pending.get('state-2')).toBeUndefined();
  });

  it('are taken once: of 20 concurrent takes from two clients, one gets the record', async () => {
    const s = stores();
    const t = createRedisStores({ client: other, prefix: s.prefix });
    const authorization = pending('state-1');
    await s.pending.set('state-1', authorization);
    const taken = await Promise.all(
      Array.from({ length: 20 }, (_, index) => (index % 2 === 0 ? s : t).pending.take('state-1')),
    );
    expect(taken.filter((record) => record !== undefined)).toEqual([authorization]);
    expect(taken.filter((record) => record === undefined)).toHaveLength(19);
    expect(await keysOf(s.prefix)).toEqual([]);
  });

  it('are filed under a hash of the state, never the state itself', async () => {
    const s = stores();
    await s.pending.set('state-SECRET', pending('state-SECRET'));
    const [key] = await keysOf(s.prefix);
    expect(key).not.toContain('SECRET');
    expect(JSON.parse((await redis.get(key!))!).key).not.toContain('SECRET');
  });
});

describe('encryption', () => {
  it('leaves no token, secret or verifier readable in Redis, and reads them back', async () => {
    const s = stores({ encryption: { keys: [{ id: 'k1', key: RAW_KEY }] } });
    await s.tokens.set(KEY, tokens());
    await s.clients.set(ISSUER, CLIENT);
    const authorization = pending('state-1');
    await s.pending.set('state-1', authorization);
    await s.discovery.set(RESOURCE, DISCOVERY);
    for (const key of await keysOf(s.prefix)) {
      const raw = (await redis.get(key))!;
      expect(raw).not.toContain('SECRET');
      if (key.includes(':discovery:')) expect(JSON.parse(raw).value).toEqual(DISCOVERY);
      else expect(JSON.parse(raw).sealed).toMatch(/^k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    }
    expect(await s.tokens.get(KEY)).toEqual(tokens());
    expect(await s.clients.get(ISSUER)).toEqual(CLIENT);
    expect(await s.pending.take('state-1')).toEqual(authorization);
  });

  it('accepts an AES-GCM CryptoKey', async () => {
    const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
      'encrypt',
      'decrypt',
    ]);
    const s = stores({ encryption: { keys: [{ id: 'kms-1', key }] } });
    await s.tokens.set(KEY, tokens());
    expect(await s.tokens.get(KEY)).toEqual(tokens());
  });

  it('binds a sealed record to its key: moved under another key, it does not open', async () => {
    const s = stores({ encryption: { keys: [{ id: 'k1', key: RAW_KEY }] } });
    const otherKey = tokenKey(ISSUER, RESOURCE, 'client-2');
    await s.tokens.set(KEY, tokens());
    await s.tokens.set(otherKey, tokens('access-other'));
    const [first, second] = await keysOf(s.prefix);
    const firstValue = JSON.parse((await redis.get(first!))!);
    const secondValue = JSON.parse((await redis.get(second!))!);
    // Keep the envelope's key, swap the ciphertext: the authenticated data no longer matches.
    await redis.set(first!, JSON.stringify({ ...firstValue, sealed: secondValue.sealed }));
    const error = await failure(s.tokens.get(firstValue.key === KEY ? KEY : otherKey));
    expect(error.code).toBe('store_failed');
    expect(error.message).toContain('does not decrypt with key "k1"');
    expectNoSecret(error);
  });

  it('rotates keys: the first key seals, older keys still open, reencrypt() moves every record over', async () => {
    const prefix = `test-${process.pid}-${++prefixes}`;
    const old = createRedisStores({
      client: redis,
      prefix,
      encryption: { keys: [{ id: 'k1', key: RAW_KEY }] },
    });
    await old.tokens.set(KEY, tokens());
    await old.clients.set(ISSUER, CLIENT);
    const rotated = createRedisStores({
      client: redis,
      prefix,
      encryption: {
        keys: [
          { id: 'k2', key: NEW_KEY },
          { id: 'k1', key: RAW_KEY },
        ],
      },
    });
    expect(await rotated.tokens.get(KEY)).toEqual(tokens());
    await rotated.pending.set('state-1', pending('state-1'));
    expect(await rotated.reencrypt()).toEqual({ rewritten: 2, current: 1, unreadable: [] });
    expect(await rotated.reencrypt()).toEqual({ rewritten: 0, current: 3, unreadable: [] });
    const onlyNew = createRedisStores({
      client: redis,
      prefix,
      encryption: { keys: [{ id: 'k2', key: NEW_KEY }] },
    });
    expect(await onlyNew.tokens.get(KEY)).toEqual(tokens());
    expect(await onlyNew.clients.get(ISSUER)).toEqual(CLIENT);
    // The pending record kept its TTL through the rewrite.
    const [pendingKey] = (await keysOf(prefix)).filter((key) => key.includes(':pending:'));
    expect(await redis.pTTL(pendingKey!)).toBeGreaterThan(0);
    // The old key alone no longer opens anything, and says which key is missing.
    const error = await failure(old.tokens.get(KEY));
    expect(error.message).toContain(
      'encrypted with key "k2", which is not among the configured encryption keys',
    );
  });

  it('refuses plaintext records once encryption is on, until reencrypt() seals them', async () => {
    const prefix = `test-${process.pid}-${++prefixes}`;
    await createRedisStores({ client: redis, prefix }).tokens.set(KEY, tokens());
    const sealed = createRedisStores({
      client: redis,
      prefix,
      encryption: { keys: [{ id: 'k1', key: RAW_KEY }] },
    });
    const error = await failure(sealed.tokens.get(KEY));
    expect(error.message).toContain('not encrypted although encryption is configured');
    expect(await sealed.reencrypt()).toEqual({ rewritten: 1, current: 0, unreadable: [] });
    expect(await sealed.tokens.get(KEY)).toEqual(tokens());
    const plain = await failure(createRedisStores({ client: redis, prefix }).tokens.get(KEY));
    expect(plain.message).toContain('is encrypted, but no encryption keys are configured');
  });

  it('lists records it cannot read instead of stopping', async () => {
    const s = stores({ encryption: { keys: [{ id: 'k1', key: RAW_KEY }] } });
    await s.tokens.set(KEY, tokens());
    const [key] = await keysOf(s.prefix);
    await redis.set(key!, 'not json');
    expect(await s.reencrypt()).toEqual({ rewritten: 0, current: 0, unreadable: [key] });
  });
});

describe('options', () => {
  it.each([
    ['no client', { client: undefined }, 'client must be a Redis client'],
    ['a prefix with braces', { prefix: 'a{b}' }, 'prefix must be'],
    ['an empty prefix', { prefix: '' }, 'prefix must be'],
    ['a lease under 100 ms', { leaseMs: 50 }, 'leaseMs must be an integer of at least 100'],
    ['a zero lock timeout', { lockTimeoutMs: 0 }, 'lockTimeoutMs must be'],
    ['a fractional timeout', { operationTimeoutMs: 1.5 }, 'operationTimeoutMs must be'],
    ['no encryption keys', { encryption: { keys: [] } }, 'at least one key'],
    ['a key id with a space', { encryption: { keys: [{ id: 'k 1', key: RAW_KEY }] } }, 'needs an "id"'],
    ['a 16-byte key', { encryption: { keys: [{ id: 'k1', key: new Uint8Array(16) }] } }, 'must be 32 bytes'],
    [
      'two keys with one id',
      {
        encryption: {
          keys: [
            { id: 'k1', key: RAW_KEY },
            { id: 'k1', key: NEW_KEY },
          ],
        },
      },
      'unique',
    ],
    ['a key given as a string', { encryption: { keys: [{ id: 'k1', key: 'SECRET' }] } }, 'needs a "key"'],
  ])('refuses %s with invalid_options', (_label, options, message) => {
    let error: unknown;
    try {
      createRedisStores({ client: redis, ...(options as object) } as RedisStoresOptions);
    } catch (caught) {
      error = caught;
    }
    expect(isOAuthClientError(error, 'invalid_options')).toBe(true);
    expect((error as Error).message).toContain(message);
    expectNoSecret(error);
  });
});

describe('the refresh lease', () => {
  it('lets one holder at a time run, across clients (processes), for the same grant only', async () => {
    const a = stores();
    const b = createRedisStores({ client: other, prefix: a.prefix });
    let holders = 0;
    let most = 0;
    const order: string[] = [];
    const task = (name: string) => async () => {
      holders++;
      most = Math.max(most, holders);
      order.push(`${name} in`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      order.push(`${name} out`);
      holders--;
      return name;
    };
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        (index % 2 === 0 ? a : b).tokens.lock!(KEY, task(`t${index}`)),
      ),
    );
    expect(results).toEqual(Array.from({ length: 10 }, (_, index) => `t${index}`));
    expect(most).toBe(1);
    for (let index = 0; index < order.length; index += 2) {
      expect(order[index]!.replace(' in', '')).toBe(order[index + 1]!.replace(' out', ''));
    }
    // Another grant is never blocked by this one's lease.
    let release: () => void = () => {};
    const held = a.tokens.lock!(KEY, () => new Promise<void>((resolve) => (release = resolve)));
    await expect(b.tokens.lock!(tokenKey(ISSUER, RESOURCE, 'client-2'), async () => 'free')).resolves.toBe(
      'free',
    );
    release();
    await held;
    expect(await keysOf(a.prefix)).toEqual([
      expect.stringMatching(/:fence$/),
      expect.stringMatching(/:fence$/),
    ]);
  });

  it('writes inside the lock only while no newer lease exists (fencing)', async () => {
    const a = stores();
    const b = createRedisStores({ client: other, prefix: a.prefix });
    const leaseKey = () => redis.keys(`${a.prefix}:*:lease`).then((keys) => keys[0]!);
    const error = await failure(
      a.tokens.lock!(KEY, async () => {
        // A stalls past its lease (simulated: the lease is gone) and B renews meanwhile.
        await redis.del(await leaseKey());
        await b.tokens.lock!(KEY, () => b.tokens.set(KEY, tokens('access-from-b')));
        await a.tokens.set(KEY, tokens('access-from-a'));
      }),
    );
    expect(error.code).toBe('store_failed');
    expect(error.message).toContain('passed to another process before this one stored its result');
    expectNoSecret(error);
    expect(await a.tokens.get(KEY)).toMatchObject({ accessToken: 'access-from-b' });
    // The same for the delete the engine does when a refresh token is rejected.
    await failure(
      a.tokens.lock!(KEY, async () => {
        await redis.del(await leaseKey());
        await b.tokens.lock!(KEY, async () => {});
        await a.tokens.delete(KEY);
      }),
    );
    expect(await a.tokens.get(KEY)).toMatchObject({ accessToken: 'access-from-b' });
  });

  it('still writes when its lease lapsed but nobody took another since, and takes it back', async () => {
    const a = stores();
    const b = createRedisStores({ client: other, prefix: a.prefix, lockTimeoutMs: 200 });
    await a.tokens.lock!(KEY, async () => {
      const [lease] = await redis.keys(`${a.prefix}:*:lease`);
      await redis.del(lease!);
      await a.tokens.set(KEY, tokens('access-from-a'));
      // Taken back: B cannot get in while A still works.
      expect((await failure(b.tokens.lock!(KEY, async () => {}))).message).toContain(
        'timed out after 200 ms',
      );
    });
    expect(await a.tokens.get(KEY)).toMatchObject({ accessToken: 'access-from-a' });
  });

  it('writes outside the lock, or for another key inside it, as ordinary writes', async () => {
    const a = stores();
    const otherKey = tokenKey(ISSUER, RESOURCE, 'client-2');
    await a.tokens.set(KEY, tokens('outside'));
    await a.tokens.lock!(KEY, () => a.tokens.set(otherKey, tokens('other-key')));
    expect(await a.tokens.get(otherKey)).toMatchObject({ accessToken: 'other-key' });
    // A straggler of a finished task writes as an ordinary write too.
    let straggler: Promise<void> = Promise.resolve();
    await a.tokens.lock!(KEY, async () => {
      straggler = new Promise((resolve) => setTimeout(resolve, 20)).then(() =>
        a.tokens.set(KEY, tokens('later')),
      );
    });
    await straggler;
    expect(await a.tokens.get(KEY)).toMatchObject({ accessToken: 'later' });
  });

  it('gives up waiting after lockTimeoutMs with store_failed, without running the task', async () => {
    const a = stores();
    const b = createRedisStores({ client: other, prefix: a.prefix, lockTimeoutMs: 300 });
    let ran = false;
    let release: () => void = () => {};
    const held = a.tokens.lock!(KEY, () => new Promise<void>((resolve) => (release = resolve)));
    const error = await failure(
      b.tokens.lock!(KEY, async () => {
        ran = true;
      }),
    );
    release();
    await held;
    expect(ran).toBe(false);
    expect(error.code).toBe('store_failed');
    expect(error.message).toMatch(
      /^timed out after 300 ms waiting for the refresh lease test-\d+-\d+:tokens:\{[0-9a-f]{64}\}:lease/,
    );
  });

  it('outlives a holder that renews it, and passes on when a holder dies without releasing', async () => {
    const a = stores({ leaseMs: 1_000 });
    const b = createRedisStores({ client: other, prefix: a.prefix, leaseMs: 1_000, lockTimeoutMs: 10_000 });
    // A holds longer than one lease lasts: its renewals keep B out the whole time.
    let aDone = false;
    let aStarted: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      aStarted = resolve;
    });
    const first = a.tokens.lock!(KEY, async () => {
      aStarted();
      await new Promise((resolve) => setTimeout(resolve, 1_600));
      aDone = true;
    });
    await started;
    await b.tokens.lock!(KEY, async () => {
      expect(aDone).toBe(true);
    });
    await first;
    // A dead holder: its lease is in Redis but nobody renews it. B gets in once it expires.
    const [lease] = await redis
      .keys(`${a.prefix}:*:fence`)
      .then((keys) => keys.map((key) => key.replace(/:fence$/, ':lease')));
    await redis.set(lease!, '99:dead-process', { PX: 200 });
    await expect(b.tokens.lock!(KEY, async () => 'after the dead holder')).resolves.toBe(
      'after the dead holder',
    );
  });

  it('is not revived by a renewal that reaches Redis after the release (a retried one)', async () => {
    const a = stores();
    let leaseKey = '';
    let value = '';
    await a.tokens.lock!(KEY, async () => {
      leaseKey = (await redis.keys(`${a.prefix}:*:lease`))[0]!;
      value = (await redis.get(leaseKey))!;
    });
    expect(value).toMatch(/^1:[0-9a-f-]{36}$/);
    expect(await redis.sendCommand(['EVAL', RENEW.source, '1', leaseKey, value, '10000'])).toBe(0);
    expect(await redis.exists(leaseKey)).toBe(0);
  });

  it('is released when the task fails, so the next caller gets in at once', async () => {
    const a = stores();
    const b = createRedisStores({ client: other, prefix: a.prefix, lockTimeoutMs: 1_000 });
    await expect(
      a.tokens.lock!(KEY, async () => {
        throw new Error('task failed');
      }),
    ).rejects.toThrow('task failed');
    expect(await redis.keys(`${a.prefix}:*:lease`)).toEqual([]);
    await expect(b.tokens.lock!(KEY, async () => 'next')).resolves.toBe('next');
  });
});

describe('Redis unavailable', () => {
  it('fails with store_failed within operationTimeoutMs when Redis is gone, and recovers after a restart', async () => {
    const own = await startRedisServer();
    const client = await connect(own.url);
    try {
      const s = createRedisStores({ client, prefix: 'unavailable', operationTimeoutMs: 300 });
      await s.tokens.set(KEY, tokens());
      await own.restart();
      // The connection was cut; the store reconnects and the data (saved on shutdown) is back.
      expect(await s.tokens.get(KEY)).toEqual(tokens());
      // The script cache is empty after a restart: the lease falls back to EVAL.
      await expect(s.tokens.lock!(KEY, async () => 'locked')).resolves.toBe('locked');
      await own.stop();
      for (const operation of [
        () => s.tokens.get(KEY),
        () => s.tokens.set(KEY, tokens()),
        () => s.pending.take('state-SECRET'),
        () => s.tokens.lock!(KEY, async () => 'never'),
      ]) {
        const error = await failure(operation());
        expect(error.code).toBe('store_failed');
        expectNoSecret(error);
      }
    } finally {
      client.destroy();
      await own.stop();
    }
  });

  it('fails at once with store_failed when the client is closed', async () => {
    const client = await connect(server.url);
    client.destroy();
    const error = await failure(createRedisStores({ client }).tokens.get(KEY));
    expect(error.message).toContain('the Redis client is closed');
  });
});
