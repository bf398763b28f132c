/**
 * The per-server state that sessions share. Owned by one FtpServer; there
 * are no module-level globals.
 */
import type { WharfConfig } from '../config/load.js';
import type { UserStore } from '../auth/users.js';
import type { Vfs } from '../vfs/types.js';
import type { Access } from '../auth/access.js';
import type { Logger } from './events/log.js';
import type { TransferLog } from './events/xferlog.js';
import type { ConnectionLimits } from './limits/connections.js';
import type { LoginThrottle } from './limits/loginThrottle.js';
import type { PassivePool } from './data/passivePool.js';
import type { CommandSpec } from './session/types.js';
import type { TlsMaterial } from './tls/material.js';
import type { MessageCache } from './commands/message.js';

/** Anonymous access, when enabled. */
export interface AnonymousArea {
  vfs: Vfs;
  /** Virtual path of the drop box, if any. */
  uploadDir?: string;
  /** The access rules, shared by every anonymous session. */
  access: Access;
}

/** What every session of one server shares. */
export interface ServerContext {
  readonly config: WharfConfig;
  readonly log: Logger;
  readonly users: UserStore;
  readonly anonymous: AnonymousArea | null;
  readonly limits: ConnectionLimits;
  readonly throttle: LoginThrottle;
  readonly passivePool: PassivePool;
  readonly transferLog: TransferLog | null;
  readonly commands: ReadonlyMap<string, CommandSpec>;
  /** `.message` files, cached briefly. */
  readonly messages: MessageCache;
  /** Certificate material when FTPS is configured. */
  readonly tls: TlsMaterial | null;
  /** Opens a user's home as a Vfs. */
  openHome(home: string, keepPartialUploads: boolean): Promise<Vfs>;
  /** True once shutdown has begun. */
  readonly closing: boolean;
}
