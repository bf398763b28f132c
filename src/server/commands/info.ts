/**
 * Informational and setting commands: SYST, NOOP, FEAT, OPTS, HELP, STAT,
 * SITE, TYPE, MODE, STRU, ALLO (RFC 959, RFC 2389, RFC 2640, RFC 3659).
 */
import { reply, type Reply } from '../../protocol/reply.js';
import { mlstFeature, parseMlstOpts } from '../../protocol/listing/mlsx.js';
import { authedContext, storageOf } from '../session/dispatch.js';
import type { CommandContext, CommandSpec, Session } from '../session/types.js';
import { statPath } from './listing.js';

function feat({ session }: CommandContext): Reply {
  const lines = new Set<string>();
  const { capabilities } = storageOf(session);
  for (const spec of session.server.commands.values()) {
    if (spec.capability && !capabilities[spec.capability]) continue;
    for (const l of spec.feat?.(session) ?? []) lines.add(l);
  }
  return reply(211, ['Features:', ...[...lines].sort(), 'End']);
}

function opts({ session, arg }: CommandContext): Reply {
  const space = arg.indexOf(' ');
  const name = (space === -1 ? arg : arg.slice(0, space)).toUpperCase();
  const value = space === -1 ? '' : arg.slice(space + 1);
  if (name === 'UTF8' || name === 'UTF-8') {
    if (/^(on|)$/i.test(value.trim())) return reply(200, 'Always in UTF8 mode.');
    return reply(504, 'UTF8 cannot be turned off.');
  }
  if (name === 'MLST') {
    session.mlstFacts = parseMlstOpts(value);
    return reply(200, `MLST OPTS ${[...session.mlstFacts].map((f) => `${f};`).join('')}`);
  }
  return reply(501, `Option ${name.slice(0, 16)} not understood.`);
}

function help({ session, arg }: CommandContext): Reply {
  const verbs = [...session.server.commands.keys()].sort();
  if (arg.trim() !== '') {
    const spec = session.server.commands.get(arg.trim().toUpperCase());
    return spec ? reply(214, `Syntax: ${spec.help}`) : reply(502, `Unknown command ${arg.trim().slice(0, 8).toUpperCase()}.`);
  }
  const rows: string[] = [];
  for (let i = 0; i < verbs.length; i += 8)
    rows.push(
      verbs
        .slice(i, i + 8)
        .map((v) => v.padEnd(5))
        .join(' '),
    );
  return reply(214, ['The following commands are recognized:', ...rows, 'Help OK.']);
}

function serverStatus(session: Session): Reply {
  const lines = ['Wharf FTP server status:', `Connected to ${session.remoteAddress}`];
  if (session.login.kind === 'logged-in') {
    const a = session.login.account;
    lines.push(a.anonymous ? `Logged in anonymously` : `Logged in as ${a.name}`);
  } else lines.push('Not logged in');
  lines.push(`TYPE: ${session.type === 'A' ? 'ASCII' : 'BINARY'}; STRUcture: File; MODE: Stream`);
  lines.push(session.transfer ? `Transfer in progress: ${session.transfer.description}` : 'No data connection');
  lines.push('End of status');
  return reply(211, lines);
}

async function stat(ctx: CommandContext): Promise<Reply | void> {
  if (ctx.arg.trim() === '') return serverStatus(ctx.session);
  if (ctx.session.login.kind !== 'logged-in') return reply(530, 'Please login with USER and PASS.');
  return statPath(authedContext(ctx.session, ctx.verb, ctx.arg));
}

function site({ arg }: CommandContext): Reply {
  const sub = arg.trim().split(/\s+/)[0]?.toUpperCase() ?? '';
  if (sub === 'HELP') return reply(214, ['The following SITE commands are recognized:', 'HELP', 'Help OK.']);
  return reply(504, `SITE ${sub.slice(0, 16)} not understood; try SITE HELP.`);
}

function type({ session, arg }: CommandContext): Reply {
  const words = arg.trim().toUpperCase().split(/\s+/);
  const [t, param] = words;
  if (t === 'I' && words.length === 1) {
    session.type = 'I';
    return reply(200, 'Switching to Binary mode.');
  }
  if (t === 'L' && param === '8' && words.length === 2) {
    session.type = 'I';
    return reply(200, 'Switching to Binary mode.');
  }
  if (t === 'A' && (words.length === 1 || (param === 'N' && words.length === 2))) {
    session.type = 'A';
    return reply(200, 'Switching to ASCII mode.');
  }
  if (t === 'E' || t === 'L' || (t === 'A' && (param === 'T' || param === 'C'))) return reply(504, `TYPE ${arg.trim()} not implemented.`);
  return reply(501, 'Unrecognised TYPE command.');
}

function mode({ arg }: CommandContext): Reply {
  const m = arg.trim().toUpperCase();
  if (m === 'S') return reply(200, 'Mode set to S.');
  if (m === 'B' || m === 'C' || m === 'Z') return reply(504, `MODE ${m} not implemented; only S (stream) is.`);
  return reply(501, 'Unrecognised MODE.');
}

function stru({ arg }: CommandContext): Reply {
  const s = arg.trim().toUpperCase();
  if (s === 'F') return reply(200, 'Structure set to F.');
  if (s === 'R' || s === 'P') return reply(504, `STRU ${s} not implemented; only F (file) is.`);
  return reply(501, 'Unrecognised STRU.');
}

/** The informational family. */
export const infoCommands: CommandSpec[] = [
  { verb: 'SYST', help: 'SYST: system type', needs: 'any', arg: 'none', handler: () => reply(215, 'UNIX Type: L8') },
  { verb: 'NOOP', help: 'NOOP: do nothing', needs: 'any', arg: 'none', keepsRest: true, handler: () => reply(200, 'NOOP ok.') },
  { verb: 'FEAT', help: 'FEAT: list extensions', needs: 'any', arg: 'none', handler: feat },
  {
    verb: 'OPTS',
    help: 'OPTS <option> [<value>]: UTF8 ON, MLST facts',
    needs: 'any',
    arg: 'required',
    feat: (s) => ['UTF8', mlstFeature(s.mlstFacts)],
    handler: opts,
  },
  { verb: 'HELP', help: 'HELP [<command>]: this help', needs: 'any', arg: 'optional', handler: help },
  { verb: 'STAT', help: 'STAT [<path>]: server status, or a listing on the control connection', needs: 'any', arg: 'optional', urgent: true, handler: stat },
  { verb: 'SITE', help: 'SITE <command>: site commands (SITE HELP)', needs: 'login', arg: 'required', handler: site },
  { verb: 'TYPE', help: 'TYPE <A|I|L 8>: representation type', needs: 'login', arg: 'required', keepsRest: true, handler: type },
  { verb: 'MODE', help: 'MODE S: transfer mode', needs: 'login', arg: 'required', keepsRest: true, handler: mode },
  { verb: 'STRU', help: 'STRU F: file structure', needs: 'login', arg: 'required', keepsRest: true, handler: stru },
  { verb: 'ALLO', help: 'ALLO <size>: ignored', needs: 'login', arg: 'required', handler: () => reply(202, 'ALLO command ignored.') },
];
