/**
 * The node's one admin listener, in the primary of a node with workers:
 * the sessions it lists are every worker's (asked when requested), ending
 * one reaches the worker that holds it, `/metrics` is the workers' metrics
 * aggregated by prom-client (counters and most gauges summed; bans, which
 * every worker reads from the same state, taken once), bans go through the
 * node's shared state, and the status page hears the workers' transfers.
 */
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import type { AddressInfo } from 'node:net';
import { AdminServer } from '../../admin/server.js';
import type { WharfConfig } from '../../config/load.js';
import type { SessionInfo, SessionSource } from '../../core/sessions.js';
import type { Logger } from '../../events/log.js';
import { TlsMaterial } from '../../server/tls/material.js';
import type { ClusterPrimary } from './primary.js';

/** What the node's console is built on. */
export interface NodeConsoleOptions {
  primary: ClusterPrimary;
  config: WharfConfig;
  log: Logger;
}

type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/** The admin listener over all the workers of a node. */
export class NodeConsole {
  private admin: AdminServer | null = null;

  constructor(private readonly opts: NodeConsoleOptions) {}

  /** Starts the listener (`[admin]` must be set). */
  async listen(): Promise<{ host: string; port: number; secure: boolean }> {
    const { primary, config, log } = this.opts;
    const settings = config.admin;
    if (!settings) throw new Error('no [admin] section');
    const pem = settings.tls && config.tls ? (await TlsMaterial.load(config.tls.cert, config.tls.key)).pem : null;
    const sessions: SessionSource = {
      sessions: async () => (await primary.askAll('sessions')).flatMap((list) => list as SessionInfo[]).sort((a, b) => a.id - b.id),
      disconnect: async (id, reason) => (await primary.askAll('disconnect', [id, reason])).some((ok) => ok === true),
    };
    const core = { config, log, events: primary.events, state: primary.state };
    this.admin = new AdminServer(
      core,
      settings,
      {
        sessions,
        replies: () => [],
        passivePorts: () => 0,
        hooks: () => null,
        reload: () => primary.reload(),
        metrics: () => this.metrics(),
      },
      pem,
    );
    const a: AddressInfo = await this.admin.listen();
    return { host: a.address, port: a.port, secure: pem !== null };
  }

  /** Every worker's metrics, aggregated. */
  private async metrics(): Promise<string> {
    const all = (await this.opts.primary.askAll('metrics')) as MetricsJson[];
    return AggregatorRegistry.aggregate(all).metrics();
  }

  /** Stops the listener. */
  async close(): Promise<void> {
    await this.admin?.close();
    this.admin = null;
  }
}
