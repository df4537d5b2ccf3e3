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
 * const reply = await runScript(client, ADMIT, [reqLog, reqAmounts, tokLog, tokAmounts, streamsKey], ["60", "0", ...]);
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

/**
 * A sliding window log (the same semantics as the in-memory limiter's): a
 * zset of admission ids scored by time, a hash of their amounts and a running
 * sum (field `_sum`). `used` first drops what left the window; `retry`
 * answers when `want` more would fit (the oldest admissions leaving first).
 */
const LOG = `
local function used(z, h, window)
  local old = redis.call('ZRANGEBYSCORE', z, '-inf', now - window)
  local sum = tonumber(redis.call('HGET', h, '_sum') or '0')
  for _, id in ipairs(old) do
    sum = sum - tonumber(redis.call('HGET', h, id) or '0')
    redis.call('HDEL', h, id)
  end
  if #old > 0 then
    redis.call('ZREMRANGEBYSCORE', z, '-inf', now - window)
    if redis.call('ZCARD', z) == 0 then sum = 0 end
    redis.call('HSET', h, '_sum', tostring(sum))
  end
  return sum
end
local function retry(z, h, sum, want, cap, window)
  local excess = sum + want - cap
  if excess <= 0 then return 0 end
  local entries = redis.call('ZRANGE', z, 0, -1, 'WITHSCORES')
  for i = 1, #entries, 2 do
    excess = excess - tonumber(redis.call('HGET', h, entries[i]) or '0')
    if excess <= 0 then return tonumber(entries[i + 1]) + window - now end
  end
  return window
end
local function untilEmpty(z, window)
  local last = redis.call('ZRANGE', z, -1, -1, 'WITHSCORES')
  if #last == 0 then return 0 end
  return math.max(0, tonumber(last[2]) + window - now)
end
local function append(z, h, id, amount, window)
  redis.call('ZADD', z, now, id)
  redis.call('HSET', h, id, tostring(amount))
  redis.call('HINCRBYFLOAT', h, '_sum', amount)
  redis.call('PEXPIRE', z, window * 2)
  redis.call('PEXPIRE', h, window * 2)
end
`;

/**
 * Admission, all or nothing. KEYS: requests log zset, requests log hash,
 * tokens log zset, tokens log hash, streams zset (lease id → expiry ms).
 * ARGV: rpm (0 = none), tpm (0 = none), window ms, tokens wanted, stream
 * limit (0 = no lease), lease id, lease TTL ms, admission id.
 *
 * Reply: `{admitted, reason, retryMs, reqRemaining, reqResetMs, tokRemaining, tokResetMs, streams}`
 * with reason `""`, `requests`, `tokens` or `streams`; remaining values are
 * floored (-1 where that limit is not set); reset = until the window is empty.
 */
export const ADMIT = script(
  "admit",
  `${NOW}${LOG}
local rpm = tonumber(ARGV[1])
local tpm = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local want = tonumber(ARGV[4])
local streamLimit = tonumber(ARGV[5])
local lease = ARGV[6]
local leaseTtl = tonumber(ARGV[7])
local id = ARGV[8]
local req = 0
local tok = 0
if rpm > 0 then req = used(KEYS[1], KEYS[2], window) end
if tpm > 0 then tok = used(KEYS[3], KEYS[4], window) end
local function view(reason, retry, streams)
  local rr, rs, tr, ts = -1, 0, -1, 0
  if rpm > 0 then rr = math.max(0, math.floor(rpm - req)); rs = untilEmpty(KEYS[1], window) end
  if tpm > 0 then tr = math.max(0, math.floor(tpm - tok)); ts = untilEmpty(KEYS[3], window) end
  local ok = 0
  if reason == '' then ok = 1 end
  return {ok, reason, math.ceil(retry), rr, rs, tr, ts, streams}
end
if rpm > 0 and req + 1 > rpm then return view('requests', retry(KEYS[1], KEYS[2], req, 1, rpm, window), 0) end
if tpm > 0 and want > 0 and tok + want > tpm then return view('tokens', retry(KEYS[3], KEYS[4], tok, want, tpm, window), 0) end
local streams = 0
if streamLimit > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now)
  streams = redis.call('ZCARD', KEYS[5])
  if streams >= streamLimit then return view('streams', 1000, streams) end
  redis.call('ZADD', KEYS[5], now + leaseTtl, lease)
  redis.call('PEXPIRE', KEYS[5], leaseTtl * 2)
  streams = streams + 1
end
if rpm > 0 then append(KEYS[1], KEYS[2], id, 1, window); req = req + 1 end
if tpm > 0 and want > 0 then append(KEYS[3], KEYS[4], id, want, window); tok = tok + want end
return view('', 0, streams)
`,
);

/**
 * Settles a token reservation: changes admission `id`'s amount by `delta`
 * (a refund when negative). An admission that already left the window takes
 * no refund, and usage above it is charged now as a new entry. KEYS: tokens
 * log zset, tokens log hash. ARGV: window ms, admission id, delta.
 * Reply: what the window holds now, floored.
 */
export const ADJUST = script(
  "adjust",
  `${NOW}${LOG}
local window = tonumber(ARGV[1])
local id = ARGV[2]
local delta = tonumber(ARGV[3])
local sum = used(KEYS[1], KEYS[2], window)
if redis.call('ZSCORE', KEYS[1], id) then
  redis.call('HINCRBYFLOAT', KEYS[2], id, delta)
  sum = tonumber(redis.call('HINCRBYFLOAT', KEYS[2], '_sum', delta))
elseif delta > 0 then
  append(KEYS[1], KEYS[2], id .. ':late', delta, window)
  sum = sum + delta
end
return math.floor(sum)
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

/** Drops a stored value's bookkeeping (index zset KEYS[2], sizes hash KEYS[3], bytes counter KEYS[4]); the value itself stays. */
const FORGET = `
local function forget(k)
  local s = tonumber(redis.call('HGET', KEYS[3], k) or '0')
  redis.call('HDEL', KEYS[3], k)
  redis.call('ZREM', KEYS[2], k)
  redis.call('DECRBY', KEYS[4], s)
end
`;

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
  `${NOW}${FORGET}
local size = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local max = tonumber(ARGV[4])
local maxCount = tonumber(ARGV[5])
if size > max then return -1 end
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
  `${FORGET}
forget(KEYS[1])
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
