/**
 * The built-in subscribers of the server's events: the JSON log (one line
 * per event, with the `event` field naming it) and the xferlog (one line
 * per finished file transfer).
 */
import type { Logger } from './log.js';
import type { ServerEvents } from './events.js';
import { TransferLog } from './xferlog.js';

/** Writes the server's events to the JSON log. */
export function logEvents(events: ServerEvents, log: Logger): void {
  events.on('connect', (e) => log.info({ event: 'connect', session: e.session, remote: e.remote, protocol: e.protocol, proxy: e.proxy }, 'connection'));
  events.on('disconnect', (e) => log.info({ event: 'disconnect', session: e.session, remote: e.remote }, 'disconnected'));
  events.on('connection-refused', (e) => log.info({ event: 'connection-refused', remote: e.remote, reason: e.reason }, `connection refused (${e.reason})`));
  events.on('login', (e) =>
    log.info({ event: 'login', session: e.session, remote: e.remote, protocol: e.protocol, user: e.user, anonymous: e.anonymous, ident: e.ident }, 'logged in'),
  );
  events.on('login-failed', (e) => log.info({ event: 'login-failed', session: e.session, remote: e.remote, protocol: e.protocol, user: e.user, reason: e.reason }, 'login failed'));
  events.on('ban', (e) => log.warn({ event: 'address-banned', remote: e.remote, seconds: e.seconds }, `banned ${e.remote} for ${e.seconds} s`));
  events.on('transfer', (e) =>
    log.info(
      {
        event: 'transfer',
        session: e.session,
        remote: e.remote,
        protocol: e.protocol,
        user: e.user,
        direction: e.direction,
        path: e.path,
        bytes: e.bytes,
        seconds: Math.round(e.seconds * 1000) / 1000,
        complete: e.ok,
      },
      'transfer',
    ),
  );
  for (const name of ['mkdir', 'rmdir', 'delete'] as const) {
    events.on(name, (e) => log.info({ event: name, session: e.session, remote: e.remote, user: e.user, path: e.path }, name));
  }
  events.on('rename', (e) => log.info({ event: 'rename', session: e.session, remote: e.remote, user: e.user, from: e.from, path: e.path }, 'rename'));
}

/** Appends one xferlog line per finished file transfer; resolves the file's close. */
export function xferlogEvents(events: ServerEvents, path: string): { close(): Promise<void> } {
  const log = new TransferLog(path);
  const onTransfer: Parameters<typeof events.on<'transfer'>>[1] = (e) =>
    log.write({
      end: new Date(),
      seconds: e.seconds,
      remoteHost: e.remote,
      bytes: e.bytes,
      path: e.path,
      ascii: e.mode === 'ascii',
      direction: e.direction === 'download' ? 'o' : 'i',
      anonymous: e.anonymous,
      user: e.anonymous ? (e.ident ?? 'anonymous') : e.user,
      complete: e.ok,
      service: e.protocol,
    });
  events.on('transfer', onTransfer);
  return {
    close: () => {
      events.off('transfer', onTransfer);
      return log.close();
    },
  };
}
