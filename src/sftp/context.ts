/**
 * What an SFTP request works with: the logged-in account, the core's
 * services, and how to report what it changed.
 */
import type { Account } from '../auth/account.js';
import type { Core } from '../core/context.js';
import type { UserRef } from '../events/events.js';
import type { AheadBudget } from './files.js';

/** One SFTP session's context. */
export interface SftpContext {
  readonly core: Core;
  readonly account: Account;
  /** The session and account part of its events. */
  readonly ref: UserRef;
  /** The connection's budget for out-of-order upload data. */
  readonly ahead: AheadBudget;
  /** Reports a mkdir, rmdir or delete. */
  emitFile(kind: 'mkdir' | 'rmdir' | 'delete', path: string): void;
  /** Reports a rename. */
  emitRename(from: string, to: string): void;
}

/** A context whose events go to the core's emitter. */
export function sftpContext(core: Core, account: Account, ref: UserRef, ahead: AheadBudget): SftpContext {
  return {
    core,
    account,
    ref,
    ahead,
    emitFile: (kind, path) => core.events.emit(kind, { ...ref, path }),
    emitRename: (from, path) => core.events.emit('rename', { ...ref, from, path }),
  };
}
