/**
 * FTPS commands (RFC 4217): AUTH TLS (and AUTH SSL), PBSZ, PROT, CCC.
 * Only in the table when TLS is configured, so FEAT lists them only then.
 */
import { reply, type Reply } from '../../protocol/reply.js';
import type { CommandContext, CommandSpec, Session } from '../session/types.js';

/** True when a control line is an AUTH request the session will act on. */
export function isAuthLine(line: string): boolean {
  return /^auth\s+(tls|ssl|tls-c|tls-p)\s*$/i.test(line);
}

async function auth({ session, arg }: CommandContext): Promise<Reply | void> {
  const mech = arg.trim().toUpperCase();
  if (!['TLS', 'SSL', 'TLS-C', 'TLS-P'].includes(mech)) {
    session.releaseHold();
    return reply(504, `AUTH ${mech.slice(0, 8)} not supported; use AUTH TLS.`);
  }
  if (session.tls) {
    session.releaseHold();
    return reply(503, 'Already using TLS.');
  }
  await session.sendAndFlush(reply(234, `Proceed with negotiation (${mech === 'SSL' ? 'SSL' : 'TLS'}).`));
  session.upgradeToTls();
}

function pbsz({ session }: CommandContext): Reply {
  if (!session.tls) return reply(503, 'PBSZ needs AUTH TLS first.');
  session.tls.pbsz = true;
  return reply(200, 'PBSZ=0');
}

function prot({ session, arg }: CommandContext): Reply {
  if (!session.tls) return reply(503, 'PROT needs AUTH TLS first.');
  if (!session.tls.pbsz) return reply(503, 'PROT needs PBSZ first.');
  const level = arg.trim().toUpperCase();
  if (level === 'P') {
    session.tls.prot = 'P';
    return reply(200, 'PROT now Private.');
  }
  if (level === 'C') {
    if (dataTlsRequired(session)) return reply(534, 'PROT C refused: this server requires encrypted data connections.');
    session.tls.prot = 'C';
    return reply(200, 'PROT now Clear.');
  }
  if (level === 'S' || level === 'E') return reply(536, `PROT ${level} not supported; use P or C.`);
  return reply(504, 'Unknown PROT level.');
}

/** True when the policy demands TLS for this session's (pending) login. */
export function tlsRequiredFor(session: Session, anonymous: boolean): boolean {
  const require = session.server.config.tls?.require ?? 'none';
  return require === 'all' || (require === 'users' && !anonymous);
}

/** True when data connections of the logged-in account must be protected. */
export function dataTlsRequired(session: Session): boolean {
  if (session.login.kind !== 'logged-in') return false;
  return tlsRequiredFor(session, session.login.account.anonymous);
}

/** The FTPS family. */
export const tlsCommands: CommandSpec[] = [
  { verb: 'AUTH', help: 'AUTH TLS: secure the control connection', needs: 'any', arg: 'required', feat: () => ['AUTH TLS', 'AUTH SSL'], handler: auth },
  { verb: 'PBSZ', help: 'PBSZ 0: protection buffer size', needs: 'any', arg: 'required', feat: () => ['PBSZ'], handler: pbsz },
  { verb: 'PROT', help: 'PROT <P|C>: data channel protection', needs: 'any', arg: 'required', feat: () => ['PROT'], handler: prot },
  {
    verb: 'CCC',
    help: 'CCC: clear the control channel (refused)',
    needs: 'any',
    arg: 'none',
    handler: () => reply(534, 'CCC refused: the control connection stays encrypted.'),
  },
];
