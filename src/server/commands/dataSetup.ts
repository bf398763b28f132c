/**
 * Preparing data connections: PASV and PORT (RFC 959), EPSV and EPRT
 * (RFC 2428), REST (RFC 3659). PORT and EPRT may only point back at the
 * client's own address and at a port of 1024 or more: no FTP bounce.
 */
import { isIPv6 } from 'node:net';
import { reply, type Reply } from '../../protocol/reply.js';
import { formatEpsvReply, formatPasvReply, parseEprt, parseHostPort } from '../../protocol/address.js';
import type { AuthedContext, CommandSpec, Session } from '../session/types.js';

async function openPassive(session: Session): Promise<number | Reply> {
  try {
    return await session.data.listen(session.localAddress);
  } catch (err) {
    session.server.log.warn({ event: 'passive-failed', err: (err as Error).message }, 'cannot open a passive listener');
    return reply(425, "Can't open passive connection: no free port.");
  }
}

async function pasv({ session }: AuthedContext): Promise<Reply> {
  if (session.epsvAll) return reply(503, 'PASV not allowed after EPSV ALL.');
  if (isIPv6(session.localAddress)) return reply(425, 'PASV is for IPv4 only; use EPSV.');
  const port = await openPassive(session);
  if (typeof port !== 'number') return port;
  const host = session.server.announcer.addressFor(session.remoteAddress) ?? session.localAddress;
  return reply(227, formatPasvReply(host, port));
}

async function epsv({ session, arg }: AuthedContext): Promise<Reply> {
  const a = arg.trim().toUpperCase();
  if (a === 'ALL') {
    session.epsvAll = true;
    return reply(200, 'EPSV ALL ok.');
  }
  const family = isIPv6(session.localAddress) ? '2' : '1';
  if (a !== '' && a !== family) return reply(522, `Network protocol not supported, use (${family})`);
  const port = await openPassive(session);
  if (typeof port !== 'number') return port;
  return reply(229, formatEpsvReply(port));
}

/** Bounce protection: the address must be the client's, the port unprivileged. */
function checkActive(session: Session, host: string, port: number): Reply | null {
  if (host !== session.remoteAddress && !session.server.config.server.allow_foreign_data_address) {
    session.server.log.warn({ event: 'bounce-refused', session: session.id, remote: session.remoteAddress, target: host }, 'refused PORT/EPRT to another address');
    return reply(500, 'Illegal PORT command: the address must be your own.');
  }
  if (port < 1024) return reply(504, 'Illegal PORT command: ports below 1024 are refused.');
  return null;
}

function port({ session, arg }: AuthedContext): Reply {
  if (session.epsvAll) return reply(503, 'PORT not allowed after EPSV ALL.');
  const hp = parseHostPort(arg);
  if (!hp) return reply(501, 'Syntax error in PORT arguments.');
  const refused = checkActive(session, hp.host, hp.port);
  if (refused) return refused;
  session.data.setActive(hp.host, hp.port);
  return reply(200, 'PORT command successful. Consider using PASV.');
}

function eprt({ session, arg }: AuthedContext): Reply {
  if (session.epsvAll) return reply(503, 'EPRT not allowed after EPSV ALL.');
  const r = parseEprt(arg);
  const family = isIPv6(session.remoteAddress) ? 2 : 1;
  if (!r.ok) return r.reason === 'protocol' ? reply(522, `Network protocol not supported, use (${family})`) : reply(501, 'Syntax error in EPRT arguments.');
  if (r.family !== family) return reply(522, `Network protocol not supported, use (${family})`);
  const refused = checkActive(session, r.host, r.port);
  if (refused) return refused;
  session.data.setActive(r.host, r.port);
  return reply(200, 'EPRT command successful. Consider using EPSV.');
}

function rest({ session, arg }: AuthedContext): Reply {
  const text = arg.trim();
  if (!/^\d{1,15}$/.test(text)) return reply(501, 'REST needs a byte offset.');
  session.restOffset = Number(text);
  return reply(350, `Restart position accepted (${text}).`);
}

/** The data-setup family. */
export const dataSetupCommands: CommandSpec[] = [
  { verb: 'PASV', help: 'PASV: passive mode (IPv4)', needs: 'login', arg: 'none', keepsRest: true, handler: pasv },
  { verb: 'EPSV', help: 'EPSV [<1|2|ALL>]: extended passive mode', needs: 'login', arg: 'optional', keepsRest: true, feat: () => ['EPSV'], handler: epsv },
  { verb: 'PORT', help: 'PORT <h1,h2,h3,h4,p1,p2>: active mode (IPv4)', needs: 'login', arg: 'required', keepsRest: true, handler: port },
  { verb: 'EPRT', help: 'EPRT <|proto|addr|port|>: extended active mode', needs: 'login', arg: 'required', keepsRest: true, feat: () => ['EPRT'], handler: eprt },
  { verb: 'REST', help: 'REST <offset>: restart the next transfer at offset', needs: 'login', arg: 'required', keepsRest: true, feat: () => ['REST STREAM'], handler: rest },
];
