/**
 * The Lua scripts behind the refresh lease. Each runs atomically in Redis. The keys of one
 * grant share a hash tag (`{…}`), so a script's keys live in one slot.
 *
 * A lease is the key `…:lease` holding `<fence>:<owner>`, with a TTL. `<fence>` comes from
 * `INCR …:fence`, so every lease ever granted on a grant has a larger number than the one before:
 * it is the fencing token. `<owner>` is a random id the acquirer chose, so that an acquisition whose
 * reply was lost can be recognised when it is sent again.
 */
import { script } from './commands.js';

/**
 * KEYS: lease, fence counter. ARGV: owner, lease ms.
 * Returns `{1, fence}` when the caller holds the lease (now, or already from a first attempt
 * whose reply was lost), else `{0, ms}`: how long the current holder's lease has left.
 */
export const ACQUIRE = script(`
local holder = redis.call('GET', KEYS[1])
if holder then
  local fence, owner = string.match(holder, '^(%d+):(.+)$')
  if owner == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return {1, tonumber(fence)}
  end
  local left = redis.call('PTTL', KEYS[1])
  if left < 1 then left = 1 end
  return {0, left}
end
local fence = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], fence .. ':' .. ARGV[1], 'PX', ARGV[2])
return {1, fence}
`);

/**
 * Keeps the lease alive while its holder works. KEYS: lease. ARGV: `<fence>:<owner>`, ms. Returns 1,
 * or 0 when the lease is no longer the caller's. It never takes a lapsed lease back: a renewal
 * retried after a lost connection may arrive after the release, and must not revive the lease.
 */
export const RENEW = script(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
`);

/** Compare-and-delete: only the holder's own lease goes. KEYS: lease. ARGV: `<fence>:<owner>`. */
export const RELEASE = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

/**
 * A token write fenced by the lease. KEYS: lease, fence counter, record. ARGV: `<fence>:<owner>`,
 * fence, lease ms, `set` or `delete`, the record. It writes while the lease is still the caller's,
 * or when it lapsed and no lease was granted since (nobody else can have refreshed; the caller takes
 * the lease back). Returns 1 when written, 0 when a newer lease exists: its holder may have stored
 * newer tokens, and the write is refused.
 */
export const FENCED_WRITE = script(`
local holder = redis.call('GET', KEYS[1])
if holder ~= ARGV[1] then
  if holder or redis.call('GET', KEYS[2]) ~= ARGV[2] then return 0 end
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
end
if ARGV[4] == 'set' then
  redis.call('SET', KEYS[3], ARGV[5])
else
  redis.call('DEL', KEYS[3])
end
return 1
`);

/** Rewrites a record only if it still holds what was read, keeping its TTL. KEYS: record. ARGV: old, new. */
export const REPLACE_IF_UNCHANGED = script(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
`);
