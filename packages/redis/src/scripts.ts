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
 * The condition every write under a lease checks: the lease is still ours, or it lapsed and no
 * lease was granted since (then nobody else can have refreshed, and the write is safe; the lease
 * is taken back). KEYS: lease, fence counter. ARGV[1]: `<fence>:<owner>`, ARGV[2]: fence, ARGV[3]: ms.
 */
const STILL_HOLDING = `
local function holding()
  local holder = redis.call('GET', KEYS[1])
  if holder == ARGV[1] then return true end
  if holder then return false end
  if redis.call('GET', KEYS[2]) ~= ARGV[2] then return false end
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
  return true
end
`;

/** Keeps the lease alive while its holder works. Same keys and arguments; returns 1 or 0. */
export const RENEW = script(`${STILL_HOLDING}
if not holding() then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`);

/** Compare-and-delete: only the holder's own lease goes. KEYS: lease. ARGV: `<fence>:<owner>`. */
export const RELEASE = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

/**
 * A token write fenced by the lease. KEYS: lease, fence counter, record. ARGV 1–3 as above,
 * ARGV[4]: `set` or `delete`, ARGV[5]: the record. Returns 1 when written, 0 when a newer lease
 * exists (the write is refused: its holder may have stored newer tokens).
 */
export const FENCED_WRITE = script(`${STILL_HOLDING}
if not holding() then return 0 end
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
