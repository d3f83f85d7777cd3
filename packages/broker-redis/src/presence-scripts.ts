/**
 * Lua scripts of the Redis presence store. Each runs atomically on the server, so two nodes never both
 * report the same user as come online or gone offline.
 *
 * Keys of one bucket (all share the hash tag `{b}`, so a bucket lives on one Redis Cluster slot):
 * - `<p>{b}:users`   sorted set: userId -> newest heartbeat of the user's devices (the expiry index)
 * - `<p>{b}:dev:<u>` sorted set: deviceKey -> newest heartbeat of that device
 * - `<p>{b}:st:<u>`  hash: `s` chosen status, `l` last_active_at
 */

/**
 * KEYS: users, then per beat its dev and st key. ARGV: deviceTtlMs, recordTtlMs, then per beat userId,
 * deviceKey, at. Returns the users that had no live device before their first beat in this call.
 */
export const TOUCH = `
local deviceTtl = tonumber(ARGV[1])
local recordTtl = tonumber(ARGV[2])
local cameOnline = {}
local n = (#KEYS - 1) / 2
for i = 1, n do
  local dev, st = KEYS[2 * i], KEYS[2 * i + 1]
  local user, device, at = ARGV[3 * i], ARGV[3 * i + 1], tonumber(ARGV[3 * i + 2])
  if redis.call('EXISTS', dev) == 0 then
    cameOnline[#cameOnline + 1] = user
  end
  redis.call('ZADD', dev, 'GT', at, device)
  redis.call('ZADD', KEYS[1], 'GT', at, user)
  if redis.call('HGET', st, 's') ~= 'invisible' then
    local last = tonumber(redis.call('HGET', st, 'l') or '0')
    if at > last then redis.call('HSET', st, 'l', at) end
  end
  redis.call('PEXPIRE', dev, deviceTtl)
  redis.call('PEXPIRE', st, recordTtl)
end
if n > 0 then redis.call('PEXPIRE', KEYS[1], deviceTtl) end
return cameOnline
`;

/**
 * KEYS: users, dev. ARGV: userId, deviceKey. Forgets one device; the user's index entry follows their
 * newest remaining device, or goes when none is left.
 */
export const DROP = `
redis.call('ZREM', KEYS[2], ARGV[2])
local newest = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
if #newest == 0 then
  redis.call('ZREM', KEYS[1], ARGV[1])
else
  redis.call('ZADD', KEYS[1], 'XX', newest[2], ARGV[1])
end
return 0
`;

/**
 * KEYS: users. ARGV: before, key prefix of the bucket (\`<p>{b}:\`), batch size. Claims up to a batch of
 * users whose newest heartbeat is older than \`before\`: removes their stale devices and, for those left
 * with none, their index entry, in the same atomic step that reports them. Returns a flat list
 * userId, lastActiveAt, ...
 */
export const EXPIRE = `
local before = ARGV[1]
local prefix = ARGV[2]
local candidates = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. before, 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, user in ipairs(candidates) do
  local dev = prefix .. 'dev:' .. user
  redis.call('ZREMRANGEBYSCORE', dev, '-inf', '(' .. before)
  local newest = redis.call('ZRANGE', dev, -1, -1, 'WITHSCORES')
  if #newest == 0 then
    redis.call('ZREM', KEYS[1], user)
    out[#out + 1] = user
    out[#out + 1] = redis.call('HGET', prefix .. 'st:' .. user, 'l') or before
  else
    redis.call('ZADD', KEYS[1], newest[2], user)
  end
end
return out
`;
