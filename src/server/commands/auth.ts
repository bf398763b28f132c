/**
 * Login and logout: USER, PASS, ACCT, REIN, QUIT (RFC 959 section 4.1.1),
 * anonymous access per RFC 1635.
 */
import { reply, type Reply } from '../../protocol/reply.js';
import { userAccess } from '../../auth/access.js';
import { isAnonymousName, looksLikeEmail } from '../../auth/users.js';
import type { Account, CommandContext, CommandSpec, Session } from '../session/types.js';
import { tlsRequiredFor } from '../tls/commands.js';

/** Ends the current login (REIN, session end), giving back its slot. */
export function logout(session: Session): void {
  if (session.login.kind === 'logged-in') session.login.account.release?.();
  session.login = { kind: 'greeted' };
  session.cwd = '/';
  session.type = 'A';
  session.renameFrom = null;
  session.restOffset = 0;
}

function user({ session, arg }: CommandContext): Reply {
  if (session.login.kind === 'logged-in') return reply(530, "Can't change to another user.");
  const anonymous = isAnonymousName(arg);
  if (anonymous && !session.server.anonymous) {
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

async function loginFailed(session: Session, text: string, user: string): Promise<Reply | void> {
  session.login = { kind: 'greeted' };
  session.loginFailures++;
  const { server } = session;
  const max = server.config.server.max_login_failures;
  const verdict = server.throttle.fail(session.remoteAddress);
  server.log.info({ event: 'login-failed', session: session.id, remote: session.remoteAddress, user, failures: session.loginFailures, delayMs: verdict.delayMs }, 'login failed');
  if (verdict.banned) {
    server.log.warn(
      { event: 'address-banned', remote: session.remoteAddress, seconds: server.config.server.ban_time },
      `banned ${session.remoteAddress} for ${server.config.server.ban_time} s after ${server.config.server.ban_threshold} failed logins`,
    );
    session.send(reply(421, `${text} Too many failed logins from your address; closing control connection.`));
    session.close();
    return;
  }
  if (verdict.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, verdict.delayMs));
  if (session.loginFailures >= max) {
    session.send(reply(421, `${text} Too many login failures; closing control connection.`));
    session.close();
    return;
  }
  return reply(530, text);
}

async function loggedIn(session: Session, account: Account, text: string): Promise<Reply> {
  session.login = { kind: 'logged-in', account };
  session.cwd = '/';
  session.loginFailures = 0;
  session.armTimer();
  session.server.log.info({ event: 'login', session: session.id, remote: session.remoteAddress, user: account.name, anonymous: account.anonymous, ident: account.ident }, 'logged in');
  const message = await session.server.messages.get(account.vfs, '/');
  return reply(230, [...message, text]);
}

async function pass({ session, arg }: CommandContext): Promise<Reply | void> {
  if (session.login.kind === 'logged-in') return reply(230, 'Already logged in.');
  if (session.login.kind !== 'need-pass') return reply(503, 'Login with USER first.');
  const name = session.login.user;
  const server = session.server;
  if (isAnonymousName(name) && server.anonymous) {
    const anon = server.anonymous;
    if (server.config.anonymous?.require_email && !looksLikeEmail(arg)) {
      return loginFailed(session, 'Please use your e-mail address as the password.', name);
    }
    if (!server.limits.takeAnonymous()) {
      server.log.info({ event: 'anonymous-full', session: session.id, remote: session.remoteAddress }, 'anonymous login refused: too many anonymous users');
      session.send(reply(421, `Too many anonymous users (the limit is ${server.config.anonymous?.max_connections}); please try again later.`));
      session.close();
      return;
    }
    let released = false;
    const account: Account = {
      name: 'anonymous',
      anonymous: true,
      vfs: anon.vfs,
      access: anon.access,
      maxRate: server.config.anonymous?.max_rate ?? 0,
      ident: arg.slice(0, 128),
      release: () => {
        if (!released) server.limits.releaseAnonymous();
        released = true;
      },
    };
    return loggedIn(session, account, 'Anonymous access granted, restrictions apply.');
  }
  const found = await server.users.authenticate(name, arg);
  if (!found) return loginFailed(session, 'Login incorrect.', name);
  server.throttle.succeed(session.remoteAddress);
  let vfs;
  try {
    vfs = await server.openHome(found.home, found.keepPartialUploads);
  } catch (err) {
    server.log.error({ event: 'home-unavailable', user: name, err }, 'home directory unavailable');
    session.login = { kind: 'greeted' };
    return reply(530, 'Login failed: home directory unavailable.');
  }
  const account: Account = { name, anonymous: false, vfs, access: userAccess(found.permissions), maxRate: found.maxRate };
  return loggedIn(session, account, 'Login successful.');
}

function acct({ session }: CommandContext): Reply {
  if (session.login.kind === 'greeted') return reply(503, 'Login with USER first.');
  return reply(202, 'ACCT not needed on this server.');
}

function rein({ session }: CommandContext): Reply {
  logout(session);
  session.data.reset();
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
