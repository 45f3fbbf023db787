/**
 * oidc-provider's storage for one demo run: a Map per server, entries dropped when they expire,
 * everything gone on exit. (oidc-provider's built-in memory adapter is process-wide and warns on
 * every start; this one belongs to one `startDemoServer` call.)
 */
import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider';

interface Entry {
  readonly payload: AdapterPayload;
  /** Milliseconds since the epoch; Infinity for entries without a lifetime. */
  readonly expiresAt: number;
}

export function createMemoryAdapterFactory(): AdapterFactory {
  const entries = new Map<string, Entry>();
  const sessionsByUid = new Map<string, string>();
  /** Device codes by their (normalised) user code, for the verification page (RFC 8628 §3.3). */
  const deviceCodesByUserCode = new Map<string, string>();
  let writes = 0;

  const prune = () => {
    const now = Date.now();
    for (const [key, entry] of entries) if (entry.expiresAt <= now) entries.delete(key);
    for (const [uid, id] of sessionsByUid) if (!entries.has(`Session:${id}`)) sessionsByUid.delete(uid);
    for (const [userCode, id] of deviceCodesByUserCode) {
      if (!entries.has(`DeviceCode:${id}`)) deviceCodesByUserCode.delete(userCode);
    }
  };

  const read = (key: string): AdapterPayload | undefined => {
    const entry = entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= Date.now()) {
      entries.delete(key);
      return undefined;
    }
    return entry.payload;
  };

  return (model: string): Adapter => {
    const keyOf = (id: string) => `${model}:${id}`;
    return {
      async upsert(id, payload, expiresIn) {
        const expiresAt = expiresIn === undefined ? Number.POSITIVE_INFINITY : Date.now() + expiresIn * 1000;
        if (++writes % 100 === 0) prune();
        entries.set(keyOf(id), { payload, expiresAt });
        if (model === 'Session' && typeof payload.uid === 'string') sessionsByUid.set(payload.uid, id);
        if (model === 'DeviceCode' && typeof payload.userCode === 'string') {
          deviceCodesByUserCode.set(payload.userCode, id);
        }
      },
      async find(id) {
        return read(keyOf(id));
      },
      async findByUid(uid) {
        const id = sessionsByUid.get(uid);
        return id === undefined ? undefined : read(keyOf(id));
      },
      async findByUserCode(userCode) {
        const id = deviceCodesByUserCode.get(userCode);
        return id === undefined ? undefined : read(keyOf(id));
      },
      async consume(id) {
        const payload = read(keyOf(id));
        if (payload !== undefined) payload.consumed = Math.floor(Date.now() / 1000);
      },
      async destroy(id) {
        entries.delete(keyOf(id));
      },
      async revokeByGrantId(grantId) {
        for (const [key, entry] of entries) if (entry.payload.grantId === grantId) entries.delete(key);
      },
    };
  };
}
