/**
 * Session stores kept as plain JSON records, so that a session's whole state can be written to a
 * file and read back by another process: the "persisted store" of a restarted application.
 */
import type {
  ClientInformation,
  DiscoveryRecord,
  OAuthStore,
  OAuthStores,
  PendingAuthorization,
  PendingAuthorizationStore,
  StoredTokens,
} from '@mcp-oauth/core';

export interface StoresSnapshot {
  readonly tokens: Record<string, StoredTokens>;
  readonly clients: Record<string, ClientInformation>;
  readonly discovery: Record<string, DiscoveryRecord>;
  readonly pending: Record<string, PendingAuthorization>;
}

class RecordStore<T> implements OAuthStore<T> {
  constructor(readonly records: Record<string, T>) {}

  async get(key: string): Promise<T | undefined> {
    return Object.hasOwn(this.records, key) ? this.records[key] : undefined;
  }

  async set(key: string, value: T): Promise<void> {
    this.records[key] = value;
  }

  async delete(key: string): Promise<void> {
    delete this.records[key];
  }
}

class PendingRecordStore extends RecordStore<PendingAuthorization> implements PendingAuthorizationStore {
  async take(key: string): Promise<PendingAuthorization | undefined> {
    const value = await this.get(key);
    delete this.records[key];
    return value;
  }
}

export function createSnapshotStores(from?: StoresSnapshot): {
  stores: OAuthStores;
  snapshot(): StoresSnapshot;
} {
  const copy: StoresSnapshot = structuredClone(
    from ?? { tokens: {}, clients: {}, discovery: {}, pending: {} },
  );
  return {
    stores: {
      tokens: new RecordStore(copy.tokens),
      clients: new RecordStore(copy.clients),
      discovery: new RecordStore(copy.discovery),
      pending: new PendingRecordStore(copy.pending),
    },
    snapshot: () => structuredClone(copy),
  };
}
