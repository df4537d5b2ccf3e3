/**
 * The Lua scripts behind the shared state. Each runs atomically on the Redis
 * server and reads the server's own clock (`TIME`), so replicas whose clocks
 * disagree still agree on every bucket and lease.
 */
import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

/** A script and its SHA-1 (for EVALSHA). */
export interface LuaScript {
  readonly name: string;
  readonly lua: string;
  readonly sha: string;
}

function script(name: string, lua: string): LuaScript {
  return { name, lua, sha: createHash("sha1").update(lua).digest("hex") };
}

/**
 * Runs a script by SHA, loading it on `NOSCRIPT` (a restarted or new Redis).
 *
 * @example
 * ```ts
 * const reply = await runScript(client, ADMIT, [reqKey, tokKey, streamsKey], ["60", "0", ...]);
 * ```
 */
export async function runScript(client: Redis, s: LuaScript, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
  try {
    return await client.evalsha(s.sha, keys.length, ...keys, ...args);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith("NOSCRIPT")) throw err;
    return client.eval(s.lua, keys.length, ...keys, ...args);
  }
}

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/** Level of a refilling bucket (hash fields l = level, t = ms of last update); a missing bucket is full. */
const BUCKET = `
local function level(key, cap, window)
  local v = redis.call('HMGET', key, 'l', 't')
  local l = tonumber(v[1])
  local ts = tonumber(v[2])
  if l == nil or ts == nil then return cap end
  return math.min(cap, l + math.max(0, now - ts) * cap / window)
end
local function store(key, l, window)
  redis.call('HSET', key, 'l', tostring(l), 't', now)
  redis.call('PEXPIRE', key, window * 2)
end
local function untilFull(l, cap, window)
  if l >= cap then return 0 end
  return math.ceil((cap - l) * window / cap)
end
`;

/**
 * Admission, all or nothing. KEYS: requests bucket, tokens bucket, streams
 * zset (lease id → expiry ms). ARGV: rpm (0 = none), tpm (0 = none), window
 * ms, tokens wanted, stream limit (0 = no lease), lease id, lease TTL ms.
 *
 * Reply: `{admitted, reason, retryMs, reqRemaining, reqResetMs, tokRemaining, tokResetMs, streams}`
 * with reason `""`, `requests`, `tokens` or `streams`; remaining values are
 * floored (-1 where that limit is not set).
 */
export const ADMIT = script(
  "admit",
  `${NOW}${BUCKET}
local rpm = tonumber(ARGV[1])
local tpm = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local want = tonumber(ARGV[4])
local streamLimit = tonumber(ARGV[5])
local lease = ARGV[6]
local leaseTtl = tonumber(ARGV[7])
local req = -1
local tok = -1
if rpm > 0 then req = level(KEYS[1], rpm, window) end
if tpm > 0 then tok = level(KEYS[2], tpm, window) end
local function view(reason, retry, streams)
  local rr, rs, tr, ts = -1, 0, -1, 0
  if rpm > 0 then rr = math.max(0, math.floor(req)); rs = untilFull(req, rpm, window) end
  if tpm > 0 then tr = math.max(0, math.floor(tok)); ts = untilFull(tok, tpm, window) end
  local ok = 0
  if reason == '' then ok = 1 end
  return {ok, reason, math.ceil(retry), rr, rs, tr, ts, streams}
end
if rpm > 0 and req < 1 then return view('requests', (1 - req) * window / rpm, 0) end
if tpm > 0 and want > 0 and tok < want then return view('tokens', (want - tok) * window / tpm, 0) end
local streams = 0
if streamLimit > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  streams = redis.call('ZCARD', KEYS[3])
  if streams >= streamLimit then return view('streams', 1000, streams) end
  redis.call('ZADD', KEYS[3], now + leaseTtl, lease)
  redis.call('PEXPIRE', KEYS[3], leaseTtl * 2)
  streams = streams + 1
end
if rpm > 0 then req = req - 1; store(KEYS[1], req, window) end
if tpm > 0 and want > 0 then tok = tok - want; store(KEYS[2], tok, window) end
return view('', 0, streams)
`,
);

/**
 * Charges (`delta` > 0) or refunds (`delta` < 0) tokens of a bucket; the
 * level may go negative (debt) when real usage exceeds the reservation, and
 * never above the capacity. KEYS: tokens bucket. ARGV: tpm, window ms, delta.
 * Reply: the new level, floored.
 */
export const ADJUST = script(
  "adjust",
  `${NOW}${BUCKET}
local cap = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local delta = tonumber(ARGV[3])
local l = math.min(cap, level(KEYS[1], cap, window) - delta)
store(KEYS[1], l, window)
return math.floor(l)
`,
);

/**
 * Extends leases that still exist (a lease already expired is not revived:
 * its slot may have been given away). KEYS: one streams zset per lease.
 * ARGV: TTL ms, then one lease id per key. Reply: how many were extended.
 */
export const RENEW_LEASES = script(
  "renew_leases",
  `${NOW}
local ttl = tonumber(ARGV[1])
local n = 0
for i, key in ipairs(KEYS) do
  local id = ARGV[i + 1]
  local exp = redis.call('ZSCORE', key, id)
  if exp and tonumber(exp) > now then
    redis.call('ZADD', key, now + ttl, id)
    redis.call('PEXPIRE', key, ttl * 2)
    n = n + 1
  end
end
return n
`,
);

/**
 * Stores a value under a budget shared by all replicas (the response cache,
 * stored Responses per tenant): values older than the TTL are forgotten
 * first, then the oldest go until the new one fits both the byte budget and
 * the count. KEYS: value key, index zset (value key → stored-at ms), sizes
 * hash, bytes counter, evictions counter. ARGV: value, size, TTL ms (0 =
 * none), max bytes, max count (0 = none). Reply: evicted count, or -1 when
 * the value alone exceeds the byte budget.
 */
export const BOUNDED_SET = script(
  "bounded_set",
  `${NOW}
local size = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local max = tonumber(ARGV[4])
local maxCount = tonumber(ARGV[5])
if size > max then return -1 end
local function forget(k)
  local s = tonumber(redis.call('HGET', KEYS[3], k) or '0')
  redis.call('HDEL', KEYS[3], k)
  redis.call('ZREM', KEYS[2], k)
  redis.call('DECRBY', KEYS[4], s)
end
forget(KEYS[1])
if ttl > 0 then
  for _, k in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now - ttl)) do forget(k) end
end
local evicted = 0
local function full()
  local bytes = tonumber(redis.call('GET', KEYS[4]) or '0')
  if bytes + size > max then return true end
  return maxCount > 0 and redis.call('ZCARD', KEYS[2]) + 1 > maxCount
end
while full() do
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0)
  if #oldest == 0 then break end
  forget(oldest[1])
  redis.call('DEL', oldest[1])
  evicted = evicted + 1
end
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
else
  redis.call('SET', KEYS[1], ARGV[1])
end
redis.call('ZADD', KEYS[2], now, KEYS[1])
redis.call('HSET', KEYS[3], KEYS[1], size)
redis.call('INCRBY', KEYS[4], size)
if evicted > 0 then redis.call('INCRBY', KEYS[5], evicted) end
return evicted
`,
);

/**
 * Deletes a value stored by {@link BOUNDED_SET} and its bookkeeping. KEYS:
 * value key, index zset, sizes hash, bytes counter. Reply: 1 when it existed.
 */
export const BOUNDED_DELETE = script(
  "bounded_delete",
  `local s = tonumber(redis.call('HGET', KEYS[3], KEYS[1]) or '0')
redis.call('HDEL', KEYS[3], KEYS[1])
redis.call('ZREM', KEYS[2], KEYS[1])
redis.call('DECRBY', KEYS[4], s)
return redis.call('DEL', KEYS[1])
`,
);

/** Deletes a key only while it still holds this owner's token (lock release). KEYS: lock. ARGV: token. */
export const RELEASE_LOCK = script(
  "release_lock",
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`,
);

/** Extends a lock only while it still holds this owner's token. KEYS: lock. ARGV: token, TTL ms. */
export const EXTEND_LOCK = script(
  "extend_lock",
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`,
);

/**
 * Adds one semantic-cache entry to a scope: the index item (id, anchors,
 * expiry, vector) at the tail of the scope's list, the answer in its hash;
 * the oldest items past the cap leave both; both keys live as long as the
 * newest entry. KEYS: index list, answers hash. ARGV: item JSON, id, answer
 * JSON, max entries, ttl ms.
 */
export const SEMANTIC_ADD = script(
  "semantic_add",
  `redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
local max = tonumber(ARGV[4])
local n = redis.call('LLEN', KEYS[1])
while n > max do
  local old = redis.call('LPOP', KEYS[1])
  redis.call('HDEL', KEYS[2], cjson.decode(old).id)
  n = n - 1
end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return n
`,
);
