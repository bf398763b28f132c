/**
 * What an SFTP request works with: the logged-in account, the core's
 * services, and how to report what it changed.
 */
import type { Account } from '../auth/account.js';
import type { Core } from '../core/context.js';
import type { UserRef } from '../events/events.js';

/** One SFTP session's context. */
export interface SftpContext {
  readonly core: Core;
  readonly account: Account;
  /** The session and account part of its events. */
  readonly ref: UserRef;
  /** Reports a mkdir, rmdir or delete. */
  emitFile(kind: 'mkdir' | 'rmdir' | 'delete', path: string): void;
  /** Reports a rename. */
  emitRename(from: string, to: string): void;
}

/** A context whose events go to the core's emitter. */
export function sftpContext(core: Core, account: Account, ref: UserRef): SftpContext {
  return {
    core,
    account,
    ref,
    emitFile: (kind, path) => core.events.emit(kind, { ...ref, path }),
    emitRename: (from, path) => core.events.emit('rename', { ...ref, from, path }),
  };
}
