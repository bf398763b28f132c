/**
 * The Lua scripts of RedisState: each decision is one script, so it is
 * atomic and one round trip (EVALSHA; EVAL once when Redis does not know
 * the script yet, after a restart). Times come from Redis (`TIME`), so the
 * nodes' clocks do not matter.
 *
 * Keys, under the configured prefix P (see redis.ts for the lease design):
 *
 *   P leases        sorted set: lease id -> expiry (ms); a lease is live until then
 *   P lease:<id>    hash of one process's counted connections: `t` (total),
 *                   `a` (anonymous), `i:<address>` (per address); expires
 *                   with the lease
 *   P bans          sorted set: address -> end of its ban (ms)
 *   P fail:<addr>   failed logins from an address; expires after a quiet ban_time
 *
 * The scripts read other processes' lease hashes by name (not passed as
 * KEYS): fine on a single Redis (with replicas), not on Redis Cluster.
 */
import { createHash } from 'node:crypto';
import type { Admission, StateLimits } from './types.js';

/** What a script needs of a client (node-redis's `sendCommand`). */
export interface CommandSender {
  sendCommand(args: string[], options?: { timeout?: number }): Promise<unknown>;
}

/** Raised when Redis does not answer in time. */
export class RedisTimeoutError extends Error {
  constructor(ms: number) {
    super(`Redis did not answer within ${ms} ms`);
    this.name = 'RedisTimeoutError';
  }
}

/**
 * Sends one command and waits at most `timeout` ms for its answer.
 * (node-redis's own `timeout` covers only the wait before a command is
 * written: a Redis that stops answering would hold a written one forever.)
 */
export function sendBounded(client: CommandSender, args: string[], timeout: number): Promise<unknown> {
  const reply = client.sendCommand(args, { timeout });
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new RedisTimeoutError(timeout)), timeout)));
  // A reply (or error) that comes after the deadline is dropped.
  reply.catch(() => undefined);
  return Promise.race([reply, late]).finally(() => clearTimeout(timer));
}

/** A Lua script run by its SHA1, loaded on first use. */
export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** Runs the script; `timeout` bounds each attempt (ms). */
  async run(client: CommandSender, keys: string[], args: (string | number)[], timeout: number): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args.map(String)];
    try {
      return await sendBounded(client, ['EVALSHA', this.sha, ...tail], timeout);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return sendBounded(client, ['EVAL', this.source, ...tail], timeout);
    }
  }
}

/** Helpers every script starts with. */
const PRELUDE = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function ms(n) return string.format('%.0f', n) end
-- True when this process's lease is live and its hash is there: counts are in sync.
local function in_sync(leases, own, id, now)
  local mine = redis.call('ZSCORE', leases, id)
  if mine and tonumber(mine) > now and redis.call('EXISTS', own) == 1 then return 1 end
  return 0
end
-- The live leases, after dropping the expired ones.
local function live(leases, now)
  redis.call('ZREMRANGEBYSCORE', leases, '-inf', ms(now))
  return redis.call('ZRANGE', leases, 0, -1)
end
local function sum(prefix, ids, field)
  local n = 0
  for _, id in ipairs(ids) do
    local v = redis.call('HGET', prefix .. 'lease:' .. id, field)
    if v then n = n + tonumber(v) end
  end
  return n
end
local function renew(leases, own, id, lease, now)
  redis.call('PEXPIRE', own, lease)
  redis.call('ZADD', leases, ms(now + tonumber(lease)), id)
end
`;

function script(body: string): LuaScript {
  return new LuaScript(PRELUDE + body);
}

/**
 * admit. KEYS: leases, bans, own lease. ARGV: prefix, id, lease ms, address,
 * max total, max per address. Returns {verdict, ban seconds left, in sync}.
 */
export const ADMIT = script(`
local now = now_ms()
local until_ms = redis.call('ZSCORE', KEYS[2], ARGV[4])
if until_ms and tonumber(until_ms) > now then
  return {'banned', math.ceil((tonumber(until_ms) - now) / 1000), 1}
end
local synced = in_sync(KEYS[1], KEYS[3], ARGV[2], now)
local ids = live(KEYS[1], now)
local field = 'i:' .. ARGV[4]
if sum(ARGV[1], ids, 't') >= tonumber(ARGV[5]) then return {'total', 0, synced} end
if sum(ARGV[1], ids, field) >= tonumber(ARGV[6]) then return {'per-ip', 0, synced} end
redis.call('HINCRBY', KEYS[3], 't', 1)
redis.call('HINCRBY', KEYS[3], field, 1)
redis.call('HSETNX', KEYS[3], 'a', 0)
renew(KEYS[1], KEYS[3], ARGV[2], ARGV[3], now)
return {'ok', 0, synced}
`);

/**
 * takeAnonymous. KEYS: leases, own lease. ARGV: prefix, id, lease ms, max.
 * Returns {1 taken | 0 full, in sync}.
 */
export const TAKE_ANONYMOUS = script(`
local now = now_ms()
local synced = in_sync(KEYS[1], KEYS[2], ARGV[2], now)
local ids = live(KEYS[1], now)
if sum(ARGV[1], ids, 'a') >= tonumber(ARGV[4]) then return {0, synced} end
redis.call('HINCRBY', KEYS[2], 'a', 1)
redis.call('HSETNX', KEYS[2], 't', 0)
renew(KEYS[1], KEYS[2], ARGV[2], ARGV[3], now)
return {1, synced}
`);

/**
 * release / releaseAnonymous. KEYS: own lease. ARGV: counter (`t` or `a`),
 * per-address field or ''. Returns 0 when the lease is gone (resync).
 */
export const RELEASE = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HINCRBY', KEYS[1], ARGV[1], -1) < 0 then redis.call('HSET', KEYS[1], ARGV[1], 0) end
if ARGV[2] ~= '' and redis.call('HINCRBY', KEYS[1], ARGV[2], -1) <= 0 then redis.call('HDEL', KEYS[1], ARGV[2]) end
return 1
`);

/**
 * Writes this process's whole table (after an outage or a lost lease).
 * KEYS: leases, own lease. ARGV: id, lease ms, then field, value pairs.
 */
export const SYNC = script(`
local now = now_ms()
redis.call('DEL', KEYS[2])
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
renew(KEYS[1], KEYS[2], ARGV[1], ARGV[2], now)
return 1
`);

/** Renews the lease. KEYS: leases, own lease. ARGV: id, lease ms. Returns 0 when it was lost (resync). */
export const RENEW = script(`
local now = now_ms()
if in_sync(KEYS[1], KEYS[2], ARGV[1], now) == 0 then return 0 end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms(now))
renew(KEYS[1], KEYS[2], ARGV[1], ARGV[2], now)
return 1
`);

/** Totals over the live leases. KEYS: leases. ARGV: prefix. Returns {total, anonymous}. */
export const COUNTS = script(`
local ids = live(KEYS[1], now_ms())
return {sum(ARGV[1], ids, 't'), sum(ARGV[1], ids, 'a')}
`);

/**
 * A failed login. KEYS: failures of the address, bans. ARGV: address,
 * threshold, ban ms. Returns {failures, 1 when now banned}.
 */
export const LOGIN_FAILED = script(`
local now = now_ms()
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if n >= tonumber(ARGV[2]) then
  redis.call('DEL', KEYS[1])
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ms(now))
  redis.call('ZADD', KEYS[2], ms(now + tonumber(ARGV[3])), ARGV[1])
  return {n, 1}
end
return {n, 0}
`);

/** Bans by hand. KEYS: bans. ARGV: address, ms. */
export const BAN = script(`
local now = now_ms()
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms(now))
redis.call('ZADD', KEYS[1], ms(now + tonumber(ARGV[2])), ARGV[1])
return 1
`);

/** Lifts a ban. KEYS: bans, failures of the address. ARGV: address. Returns 1 when a ban was in force. */
export const UNBAN = script(`
local now = now_ms()
local until_ms = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
if until_ms and tonumber(until_ms) > now then return 1 end
return 0
`);

/** The bans in force. KEYS: bans. Returns {address, end ms, ...}. */
export const BANS = script(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms(now_ms()))
return redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
`);

/** A script's array reply. */
export function list(reply: unknown): unknown[] {
  return Array.isArray(reply) ? (reply as unknown[]) : [];
}

/** The Admission a verdict of the admit script stands for. */
export function admission(verdict: string, seconds: number, l: StateLimits): Admission {
  if (verdict === 'ok') return { ok: true };
  if (verdict === 'banned') return { ok: false, reason: 'banned', seconds };
  if (verdict === 'total') return { ok: false, reason: 'total', limit: l.maxConnections };
  return { ok: false, reason: 'per-ip', limit: l.maxConnectionsPerIp };
}
