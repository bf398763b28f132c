/**
 * How a node is split between its workers: how many there are
 * (`workers = N | "auto"`), which passive ports each one owns, which
 * session ids each one hands out, and the config a worker runs with.
 */
import { availableParallelism } from 'node:os';
import { ConfigError, type WharfConfig } from '../../config/load.js';

/** Most workers a node runs (as the config allows). */
export const MAX_WORKERS = 64;

/** The number of workers `workers` names ("auto": one per core, at most MAX_WORKERS). */
export function workerCount(setting: WharfConfig['server']['workers']): number {
  return setting === 'auto' ? Math.max(1, Math.min(MAX_WORKERS, availableParallelism())) : setting;
}

/**
 * Worker `slot`'s (1-based) share of `passive_ports`: consecutive,
 * disjoint sub-ranges as even as the range allows. Undefined without a
 * range (each worker's listeners take ephemeral ports of their own).
 */
export function passiveShare(range: readonly [number, number] | undefined, slot: number, count: number): [number, number] | undefined {
  if (!range) return undefined;
  const size = range[1] - range[0] + 1;
  const base = Math.floor(size / count);
  const extra = size % count;
  const start = range[0] + (slot - 1) * base + Math.min(slot - 1, extra);
  const length = base + (slot <= extra ? 1 : 0);
  return [start, start + length - 1];
}

/** The one-line problem when `passive_ports` cannot give each of `count` workers a port; null when it can. */
export function splitProblem(range: readonly [number, number] | undefined, count: number): string | null {
  if (!range || count <= 1) return null;
  const size = range[1] - range[0] + 1;
  if (size >= count) return null;
  return `server.passive_ports: ${size} port(s) cannot be split between ${count} workers; give each worker at least one (a range of ${count} ports or more)`;
}

/** Throws the ConfigError of splitProblem, if any. */
export function checkSplit(config: WharfConfig, count: number): void {
  const problem = splitProblem(config.server.passive_ports, count);
  if (problem) throw new ConfigError([problem]);
}

/**
 * The config worker `slot` of `count` runs: its own passive sub-range and
 * no admin listener (the primary runs the node's one).
 */
export function workerConfig(config: WharfConfig, slot: number, count: number): WharfConfig {
  const passive = passiveShare(config.server.passive_ports, slot, count);
  return { ...config, server: { ...config.server, passive_ports: passive }, admin: undefined };
}

/** Session ids of worker `slot`: slot, slot + MAX_WORKERS, ... (unique across the node's workers). */
export function sessionIds(slot: number): { first: number; step: number } {
  return { first: slot, step: MAX_WORKERS };
}

/** Longest wait before replacing a worker. */
export const MAX_BACKOFF_MS = 30_000;

/**
 * How long to wait before replacing a worker after `crashes` deaths in a
 * row of young workers: the first at once, then 0.5 s, 1 s, 2 s, ... up to
 * MAX_BACKOFF_MS, so a worker that crashes at start cannot make the node spin.
 */
export function respawnDelay(crashes: number): number {
  return crashes <= 1 ? 0 : Math.min(MAX_BACKOFF_MS, 500 * 2 ** (crashes - 2));
}
