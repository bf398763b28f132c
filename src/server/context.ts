/**
 * The per-server state that FTP sessions share: the core's services plus
 * what only FTP has (the command table, passive ports, `.message` files,
 * TLS material). Owned by one FtpServer; there are no module-level globals.
 */
import type { WharfConfig } from '../config/load.js';
import type { AnonymousArea } from '../auth/login.js';
import type { Core } from '../core/context.js';
import type { Logger } from '../events/log.js';
import type { PassiveAnnouncer } from './data/announce.js';
import type { PassivePool } from './data/passivePool.js';
import type { CommandSpec } from './session/types.js';
import type { TlsMaterial } from './tls/material.js';
import type { MessageCache } from '../core/message.js';
import type { ProxyGate } from '../core/proxy.js';

export type { AnonymousArea };

/** What every FTP session of one server shares. */
export interface ServerContext {
  /** The services every protocol shares. */
  readonly core: Core;
  readonly config: WharfConfig;
  readonly log: Logger;
  readonly anonymous: AnonymousArea | null;
  readonly passivePool: PassivePool;
  /** The address PASV announces to each client. */
  readonly announcer: PassiveAnnouncer;
  readonly commands: ReadonlyMap<string, CommandSpec>;
  /** `.message` files, cached briefly. */
  readonly messages: MessageCache;
  /** Certificate material when FTPS is configured. */
  readonly tls: TlsMaterial | null;
  /** True once shutdown has begun. */
  readonly closing: boolean;
  /** Replies sent, by class (index 1 to 5), for the metrics. */
  readonly replies: number[];
  /** The PROXY protocol policy (data connections from a trusted proxy carry a header). */
  readonly proxy?: ProxyGate;
}
