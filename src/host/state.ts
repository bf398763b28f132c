/**
 * The shared state a config asks for: Redis when `[state]` names one,
 * else in this process's memory, with the limits of `[server]` and
 * `[anonymous]`. Used by a single server and by a cluster's primary.
 */
import type { WharfConfig } from '../config/load.js';
import type { Logger } from '../events/log.js';
import { MemoryState } from '../state/memory.js';
import { RedisState } from '../state/redis.js';
import type { SharedState, StateLimits } from '../state/types.js';

/** The limits the shared state enforces, from the config. */
export function stateLimits(config: WharfConfig): StateLimits {
  const s = config.server;
  return {
    maxConnections: s.max_connections,
    maxConnectionsPerIp: s.max_connections_per_ip,
    maxAnonymous: config.anonymous?.max_connections ?? 0,
    loginFailureDelayMs: s.login_failure_delay * 1000,
    banThreshold: s.ban_threshold,
    banSeconds: s.ban_time,
  };
}

/** RedisState for `[state]`, else MemoryState. */
export function stateFor(config: WharfConfig, log: Logger): SharedState {
  const limits = stateLimits(config);
  const shared = config.state;
  if (!shared) return new MemoryState(limits);
  return new RedisState({ url: shared.redis, limits, onFailure: shared.on_failure, keyPrefix: shared.key_prefix, leaseMs: shared.lease_time * 1000, log });
}
