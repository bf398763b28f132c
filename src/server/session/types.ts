/**
 * The types shared by the session and the command handlers.
 */
import type { Socket } from 'node:net';
import type { SecureContext } from 'node:tls';
import type { Reply } from '../../protocol/reply.js';
import type { MlstFact } from '../../protocol/listing/mlsx.js';
import type { Vfs, VfsCapabilities } from '../../vfs/types.js';
import type { Account } from '../../auth/account.js';
import type { Permission } from '../../config/schema.js';
import type { DataChannel } from '../data/channel.js';
import type { ServerContext } from '../context.js';

export type { Account };

/** The login state machine (RFC 959 section 6). */
export type LoginState = { kind: 'greeted' } | { kind: 'need-pass'; user: string } | { kind: 'logged-in'; account: Account };

/** TLS state of a session (RFC 4217). */
export interface SessionTls {
  /** This session's own context: data connections must resume its TLS session. */
  context: SecureContext;
  pbsz: boolean;
  prot: 'C' | 'P';
}

/** A transfer in progress. */
export interface ActiveTransfer {
  abort(): void;
  /** Bytes moved so far (for STAT). */
  bytes(): number;
  description: string;
  /** The file's virtual path; null for a listing. */
  path: string | null;
  direction: 'upload' | 'download';
  /** Bytes it will move, when known. */
  size: number | null;
}

/** Everything a handler may read or change in the session. */
export interface Session {
  readonly id: number;
  /** The control connection (a TLSSocket once secured). */
  readonly socket: Socket;
  /** Set once the control connection is secured. */
  tls: SessionTls | null;
  readonly remoteAddress: string;
  readonly localAddress: string;
  readonly server: ServerContext;
  login: LoginState;
  cwd: string;
  type: 'A' | 'I';
  /** One-shot: the REST offset for the next transfer. */
  restOffset: number;
  /** One-shot: the RNFR source for the next RNTO. */
  renameFrom: string | null;
  epsvAll: boolean;
  utf8: boolean;
  mlstFacts: Set<MlstFact>;
  loginFailures: number;
  readonly data: DataChannel;
  transfer: ActiveTransfer | null;
  /** Set when the last transfer ended through ABOR. */
  abortedTransfer: boolean;
  /** Sends a reply right away (for preliminary replies such as 150). */
  send(r: Reply): void;
  /** Sends the start of a long reply and then its body, chunk by chunk, with backpressure; stops early if the client is gone. */
  sendLines(head: string, body: AsyncIterable<string>): Promise<void>;
  /** Sends a reply and resolves once it has been handed to the kernel. */
  sendAndFlush(r: Reply): Promise<void>;
  /** Switches the control connection to TLS (after a 234 reply). */
  upgradeToTls(): void;
  /** Resumes reading text held back after an AUTH line that was refused. */
  releaseHold(): void;
  /** True once the client has closed the control connection. */
  readonly controlGone: boolean;
  /** Re-arms the idle timer (after login, after a transfer). */
  armTimer(): void;
  /** Ends the session after the replies already queued. */
  close(): void;
}

/** The session of a logged-in account. */
export interface LoggedInSession extends Session {
  login: { kind: 'logged-in'; account: Account };
}

/** What a handler gets. */
export interface CommandContext {
  session: Session;
  verb: string;
  arg: string;
}

/** What a handler of a logged-in command gets. */
export interface AuthedContext extends CommandContext {
  session: LoggedInSession;
  account: Account;
  vfs: Vfs;
  /**
   * The command's path, resolved by the gate and checked against the spec's
   * `path.perm` (empty when the spec declares no path).
   */
  target: string;
  /** Resolves another path argument against the cwd and checks `perm` on it; throws a reply error. */
  path(arg: string, perm: Permission | null): string;
}

/** What a command's path argument needs; the gate resolves and checks it. */
export interface PathSpec {
  /**
   * The permission needed on the path: a Permission; 'visible' (read or
   * list, for metadata); or null (only the jail).
   */
  perm: Permission | 'visible' | null;
  /** The path part of the argument (default: all of it). */
  from?: (arg: string) => string;
  /** Used when the argument is empty. */
  fallback?: string;
  /** Changes an existing file's content or metadata: refused where only new files may be created (the drop box). */
  modifies?: boolean;
}

/** A handler: returns the final reply (or nothing when it sent it itself). */
export type Handler<C extends CommandContext = CommandContext> = (ctx: C) => Promise<Reply | void> | Reply | void;

/** The spec of one command verb; the dispatcher enforces it. */
export interface CommandSpec {
  verb: string;
  /** HELP text: syntax and a few words. */
  help: string;
  /** 'any': works before login; 'login': needs login (530 otherwise). */
  needs: 'any' | 'login';
  /** Whether the argument is required, optional or forbidden. */
  arg: 'none' | 'optional' | 'required';
  /** Lines this command adds to FEAT, computed from the session's server. */
  feat?: (s: Session) => string[];
  /** The path argument, resolved and checked by the gate into `ctx.target`. */
  path?: PathSpec;
  /** The storage capability the command needs: refused with 502 and left out of FEAT without it. */
  capability?: keyof VfsCapabilities;
  /** Answered while a transfer runs, without waiting for it (ABOR, STAT). */
  urgent?: boolean;
  /** May stand between REST and the transfer it is for (clients send REST before or after setting up the data connection). */
  keepsRest?: boolean;
  /** What the command's path names, for error replies ("Directory not found."); default 'File'. */
  noun?: 'File' | 'Directory';
  handler: Handler<AuthedContext> | Handler<CommandContext>;
}
