/**
 * Login and logout: USER, PASS, ACCT, REIN, QUIT (RFC 959 section 4.1.1),
 * anonymous access per RFC 1635.
 */
import { reply, type Reply } from '../../protocol/reply.js';
import { isAnonymousName } from '../../auth/users.js';
import type { Account } from '../../auth/account.js';
import { sessionRef } from '../session/ref.js';
import type { CommandContext, CommandSpec, Session } from '../session/types.js';
import { tlsRequiredFor } from '../tls/commands.js';

/** Ends the current login (REIN, session end), giving back its slot. */
export function logout(session: Session): void {
  if (session.login.kind === 'logged-in') {
    const account = session.login.account;
    account.release();
    session.server.core.events.emit('logout', { ...sessionRef(session), user: account.name, anonymous: account.anonymous });
  }
  session.login = { kind: 'greeted' };
  session.cwd = '/';
  session.type = 'A';
  session.renameFrom = null;
  session.restOffset = 0;
}

function user({ session, arg }: CommandContext): Reply | void {
  if (session.login.kind === 'logged-in') return reply(530, "Can't change to another user.");
  const anonymous = isAnonymousName(arg);
  const closed = anonymous ? session.server.core.auth.anonymousClosed() : null;
  if (closed && session.server.core.auth.anonymousAllowed(arg, sessionRef(session).protocol)) return closeWith(session, closed);
  if (anonymous && !session.server.core.auth.anonymousAllowed(arg, sessionRef(session).protocol)) {
    session.login = { kind: 'greeted' };
    return reply(530, 'This server does not allow anonymous logins.');
  }
  if (!session.tls && tlsRequiredFor(session, anonymous)) {
    session.login = { kind: 'greeted' };
    return reply(530, `TLS is required for ${anonymous ? 'all' : 'non-anonymous'} logins on this server: use AUTH TLS first.`);
  }
  session.login = { kind: 'need-pass', user: arg };
  if (anonymous) return reply(331, 'Anonymous login ok, send your complete e-mail address as password.');
  return reply(331, 'Please specify the password.');
}

/** Ends the session with a 421 carrying `text`. */
function closeWith(session: Session, text: string): void {
  session.send(reply(421, text));
  session.close();
}

async function loggedIn(session: Session, account: Account, text: string): Promise<Reply> {
  session.login = { kind: 'logged-in', account };
  session.cwd = '/';
  session.loginFailures = 0;
  session.armTimer();
  const message = await session.server.messages.get(account.vfs, '/');
  return reply(230, [...message, text]);
}

async function pass({ session, arg }: CommandContext): Promise<Reply | void> {
  if (session.login.kind === 'logged-in') return reply(230, 'Already logged in.');
  if (session.login.kind !== 'need-pass') return reply(503, 'Login with USER first.');
  const name = session.login.user;
  const result = await session.server.core.auth.login({ ...sessionRef(session), user: name, password: arg });
  if (result.ok) {
    const { account } = result;
    if (session.controlGone) {
      account.release();
      return;
    }
    return loggedIn(session, account, account.anonymous ? 'Anonymous access granted, restrictions apply.' : 'Login successful.');
  }
  session.login = { kind: 'greeted' };
  if (result.reason === 'anonymous-full' || result.reason === 'outside-hours' || result.reason === 'state-unavailable' || result.banned) return closeWith(session, result.text);
  if (result.reason === 'home-unavailable') return reply(530, result.text);
  session.loginFailures++;
  if (result.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, result.delayMs));
  if (session.loginFailures >= session.server.config.server.max_login_failures) {
    return closeWith(session, `${result.text} Too many login failures; closing control connection.`);
  }
  return reply(530, result.text);
}

function acct({ session }: CommandContext): Reply {
  if (session.login.kind === 'greeted') return reply(503, 'Login with USER first.');
  return reply(202, 'ACCT not needed on this server.');
}

function rein({ session }: CommandContext): Reply {
  logout(session);
  session.data.close();
  session.armTimer();
  return reply(220, 'Service ready for new user.');
}

function quit({ session }: CommandContext): void {
  session.send(reply(221, 'Goodbye.'));
  session.close();
}

/** The login family. */
export const authCommands: CommandSpec[] = [
  { verb: 'USER', help: 'USER <name>: begin login', needs: 'any', arg: 'required', handler: user },
  { verb: 'PASS', help: 'PASS <password>: finish login', needs: 'any', arg: 'optional', handler: pass },
  { verb: 'ACCT', help: 'ACCT <account>: not needed here', needs: 'any', arg: 'required', handler: acct },
  { verb: 'REIN', help: 'REIN: log out, keep the connection', needs: 'any', arg: 'none', handler: rein },
  { verb: 'QUIT', help: 'QUIT: close the connection', needs: 'any', arg: 'optional', handler: quit },
];
