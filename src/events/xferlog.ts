/**
 * The transfer log in wu-ftpd's xferlog format, one line per transfer:
 * current-time transfer-time remote-host file-size filename transfer-type
 * special-action direction access-mode username service-name
 * authentication-method authenticated-user-id completion-status
 */
import { createWriteStream, type WriteStream } from 'node:fs';

/** One finished (or aborted) transfer. */
export interface TransferRecord {
  end: Date;
  seconds: number;
  remoteHost: string;
  bytes: number;
  path: string;
  ascii: boolean;
  direction: 'o' | 'i';
  anonymous: boolean;
  user: string;
  complete: boolean;
  /** The xferlog service name: `ftp` for FTP and FTPS (as wu-ftpd and vsftpd write), else the protocol. */
  service?: string;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Formats a record as one xferlog line (without the newline). */
export function formatXferlog(r: TransferRecord): string {
  const d = r.end;
  const p = (n: number) => String(n).padStart(2, '0');
  const time = `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${d.getFullYear()}`;
  const name = r.path.replace(/\s/g, '_');
  const user = r.user.replace(/\s/g, '_') || '*';
  return [
    time,
    Math.max(1, Math.round(r.seconds)),
    r.remoteHost,
    r.bytes,
    name,
    r.ascii ? 'a' : 'b',
    '_',
    r.direction,
    r.anonymous ? 'a' : 'r',
    user,
    r.service === undefined || r.service === 'ftps' ? 'ftp' : r.service,
    0,
    '*',
    r.complete ? 'c' : 'i',
  ].join(' ');
}

/** An append-only xferlog file. */
export class TransferLog {
  private readonly out: WriteStream;

  constructor(path: string) {
    this.out = createWriteStream(path, { flags: 'a' });
    this.out.on('error', () => undefined);
  }

  write(r: TransferRecord): void {
    this.out.write(formatXferlog(r) + '\n');
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.out.end(resolve));
  }
}
