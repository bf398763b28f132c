/**
 * The dispatcher gate: the one place that enforces each command's spec
 * (login state, argument shape), resolves paths through the jail, checks
 * permissions, clears one-shot state and turns errors into replies.
 */
import { parseCommand } from '../../protocol/command.js';
import { reply, type Reply } from '../../protocol/reply.js';
import { FtpReplyError, toReply } from '../../errors/index.js';
import { resolveVirtualPath } from '../../vfs/path.js';
import type { Permission } from '../../config/schema.js';
import type { Vfs } from '../../vfs/types.js';
import type { Access } from '../../auth/access.js';
import type { AuthedContext, CommandContext, CommandSpec, Handler, PathSpec, Session } from './types.js';

const PERMISSION_NAMES: Record<Permission, string> = {
  list: 'list directories',
  read: 'download files',
  write: 'upload files',
  append: 'append to files',
  delete: 'delete files',
  mkdir: 'create directories',
  rmdir: 'remove directories',
  rename: 'rename files',
};

/** The reply when a spec's shape, login or capability rules refuse the command, else null. */
function refused(session: Session, spec: CommandSpec, verb: string, arg: string): Reply | null {
  if (spec.arg === 'none' && arg.trim() !== '') return reply(501, `${verb} takes no argument.`);
  if (spec.arg === 'required' && arg === '') return reply(501, `${verb} needs an argument.`);
  if (spec.needs === 'login' && session.login.kind !== 'logged-in') return reply(530, 'Please login with USER and PASS.');
  if (spec.capability && !storageOf(session).capabilities[spec.capability]) return reply(502, `${verb} is not supported by this server's storage.`);
  return null;
}

/** The reply for an error a handler threw. */
function errorReply(session: Session, spec: CommandSpec, verb: string, err: unknown): Reply {
  if (!(err instanceof FtpReplyError)) session.server.log.debug({ err, verb }, 'command error');
  return toReply(err, spec.noun ?? 'File');
}

/**
 * Handles one command line; returns the final reply, if any is left to send.
 * One async function per command (no nested ones): its promises are part of
 * every session's cost.
 */
export async function dispatch(session: Session & { logFailure(v: string, a: string, r: Reply): void }, line: string): Promise<Reply | void> {
  const parsed = parseCommand(line);
  if (!parsed) return reply(500, 'Syntax error, command unrecognized.');
  const { verb, arg } = parsed;
  const spec = session.server.commands.get(verb);
  let result: Reply | void | null = spec ? refused(session, spec, verb, arg) : reply(500, `Unknown command ${verb.slice(0, 8)}.`);
  if (spec && result === null) {
    try {
      const ctx = spec.needs === 'login' ? authedContext(session, verb, arg, spec.path) : { session, verb, arg };
      result = await (spec.handler as Handler<CommandContext>)(ctx);
    } catch (err) {
      result = errorReply(session, spec, verb, err);
    }
  }
  // One-shot state lasts one command, except across the verbs the table lets stand between.
  if (!spec?.keepsRest) session.restOffset = 0;
  if (verb !== 'RNFR') session.renameFrom = null;
  if (result) session.logFailure(verb, arg, result);
  return result ?? undefined;
}

/**
 * The storage whose capabilities a session sees: its account's once logged
 * in, else the anonymous root's (FEAT before login), else a full set.
 */
export function storageOf(session: Session): Pick<Vfs, 'capabilities'> {
  if (session.login.kind === 'logged-in') return session.login.account.vfs;
  return session.server.anonymous?.vfs ?? ALL_CAPABILITIES;
}

const ALL_CAPABILITIES: Pick<Vfs, 'capabilities'> = { capabilities: { setMtime: true, append: true, resumeUpload: true, symlinks: true } };

/** The context of a logged-in command (throws 530 when not logged in). */
export function authedContext(session: Session, verb: string, arg: string, spec?: PathSpec): AuthedContext {
  if (session.login.kind !== 'logged-in') throw new FtpReplyError(530, 'Please login with USER and PASS.');
  const account = session.login.account;
  const path = (a: string, perm: Permission | null): string => {
    const p = resolveVirtualPath(session.cwd, a);
    if (perm && !account.access.allows(perm, p)) {
      throw new FtpReplyError(550, `Permission denied: this account may not ${PERMISSION_NAMES[perm]} here.`);
    }
    return p;
  };
  return {
    session: session as AuthedContext['session'],
    verb,
    arg,
    account,
    vfs: account.vfs,
    target: spec ? gatePath(account.access, path, arg, spec) : '',
    path,
  };
}

/** Resolves and checks the path a spec declares. */
function gatePath(access: Access, path: (a: string, perm: Permission | null) => string, arg: string, spec: PathSpec): string {
  const text = spec.from ? spec.from(arg) : arg;
  const p = path(text === '' ? (spec.fallback ?? '') : text, spec.perm === 'visible' ? null : spec.perm);
  if (spec.perm === 'visible' && !access.allows('read', p) && !access.allows('list', p)) throw new FtpReplyError(550, 'Permission denied.');
  if (spec.modifies && access.createOnly(p)) throw new FtpReplyError(550, 'Permission denied: files here may only be created, not changed.');
  return p;
}
