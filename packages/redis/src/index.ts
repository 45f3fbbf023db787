export type { RedisClient } from './commands.js';
export type { RedisEncryptionKey, RedisEncryptionOptions } from './encryption.js';
export {
  createRedisStores,
  type RedisStores,
  type RedisStoresOptions,
  type ReencryptResult,
} from './redis-stores.js';
