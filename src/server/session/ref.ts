/**
 * How an FTP session names itself in the server's events.
 */
import type { Protocol, SessionRef, UserRef } from '../../events/events.js';
import type { LoggedInSession, Session } from './types.js';

/** `ftps` once the control connection uses TLS. */
export function sessionProtocol(s: Pick<Session, 'tls'>): Protocol {
  return s.tls ? 'ftps' : 'ftp';
}

/** The session part of an event. */
export function sessionRef(s: Session): SessionRef {
  return { session: s.id, protocol: sessionProtocol(s), remote: s.remoteAddress };
}

/** The session and account part of an event. */
export function userRef(s: LoggedInSession): UserRef {
  const a = s.login.account;
  return { ...sessionRef(s), user: a.name, anonymous: a.anonymous };
}
