/**
 * One worker of a node (`workers = N`): a WharfServer on the node's shared
 * listeners (node:cluster hands each worker its share of the connections),
 * with its own passive ports, its own block of session ids, and the node's
 * limits and bans through the primary (IpcState) or Redis (`[state]`).
 * It answers the primary's questions (its sessions, ending one, its
 * metrics, reload) and tells it the events the node's console shows.
 */
import type { WharfConfig } from '../../config/load.js';
import type { Logger } from '../../events/log.js';
import type { BanEvent, TransferEvent } from '../../events/events.js';
import { IpcState, type StateChannel } from '../../state/ipc.js';
import { WharfServer, type ListeningAddresses } from '../server.js';
import { isPrimaryMessage, type AnswerMessage, type AskMessage, type EventMessage } from './messages.js';
import { sessionIds, workerConfig } from './plan.js';

/** How a worker is run. */
export interface ClusterWorkerOptions {
  /** 1-based place among the node's workers. */
  slot: number;
  count: number;
  /** The node's config (the file's), before this worker's share is taken. */
  config: WharfConfig;
  /** Reads the node's config again (reload). */
  loadConfig?: () => Promise<WharfConfig>;
  logger: Logger;
  /** The IPC channel to the primary. */
  channel: StateChannel;
  /** Called when the primary asks this worker to close. */
  onClose: () => void;
  /** This node's name (hooks' WHARF_NODE). */
  node: string;
}

/** A worker's server and its side of the talk with the primary. */
export class ClusterWorker {
  readonly server: WharfServer;
  private readonly unsubscribe: (() => void)[] = [];
  private readonly onMessage = (m: unknown): void => {
    if (!isPrimaryMessage(m)) return;
    if (m.wharf === 'close') this.opts.onClose();
    else void this.answer(m);
  };

  constructor(private readonly opts: ClusterWorkerOptions) {
    const { slot, count, config, channel, logger, loadConfig } = opts;
    const own = (c: WharfConfig) => workerConfig(c, slot, count);
    // Without Redis, the node's counts and bans are the primary's.
    const state = config.state ? undefined : new IpcState(channel);
    this.server = new WharfServer(own(config), {
      logger,
      state,
      sessionIds: sessionIds(slot),
      origin: { node: opts.node, worker: slot },
      reloadConfig: loadConfig ? async () => own(await loadConfig()) : undefined,
    });
    channel.onMessage(this.onMessage);
  }

  /** Starts the listeners; resolves with their addresses. The node's console, when it has one, hears this worker's transfers and bans. */
  async start(): Promise<ListeningAddresses> {
    const addresses = await this.server.listen();
    if (this.opts.config.admin) {
      this.server.metrics();
      const onTransfer = (event: TransferEvent) => this.send({ wharf: 'event', name: 'transfer', event } satisfies EventMessage);
      const onBan = (event: BanEvent) => this.send({ wharf: 'event', name: 'ban', event } satisfies EventMessage);
      this.server.on('transfer', onTransfer).on('ban', onBan);
      this.unsubscribe.push(() => this.server.off('transfer', onTransfer).off('ban', onBan));
    }
    return addresses;
  }

  /** Closes the server gracefully (`shutdown_grace`) and stops listening to the primary. */
  async close(): Promise<void> {
    for (const u of this.unsubscribe) u();
    this.opts.channel.offMessage(this.onMessage);
    await this.server.close();
  }

  private send(m: AnswerMessage | EventMessage): void {
    try {
      this.opts.channel.send(m);
    } catch {
      // The primary is gone: the cluster ends this process.
    }
  }

  private async answer(m: AskMessage): Promise<void> {
    try {
      this.send({ wharf: 'answer', id: m.id, value: await this.run(m) });
    } catch (err) {
      const problems = (err as { problems?: string[] }).problems;
      this.send({ wharf: 'answer', id: m.id, error: problems ? problems.join('; ') : err instanceof Error ? err.message : String(err) });
    }
  }

  private async run(m: AskMessage): Promise<unknown> {
    const sessions = this.server.sessions;
    switch (m.op) {
      case 'sessions':
        return sessions.sessions();
      case 'disconnect':
        return sessions.disconnect(Number(m.args[0]), String(m.args[1] ?? 'Disconnected by the administrator.'));
      case 'metrics':
        return this.server.metrics().registry.getMetricsAsJSON();
      case 'reload':
        return this.server.reload();
    }
  }
}
