/**
 * Every server the benchmark knows, in report order (Wharf first; OpenSSH's
 * sshd serves only the SFTP scenarios, nginx only the HTTP ones; Wharf's
 * console variants last, run only when named in BENCH_SERVERS).
 */
import { ftpsrv } from './ftpsrv.js';
import { nginx } from './nginx.js';
import { openssh } from './openssh.js';
import { pureftpd } from './pureftpd.js';
import { pyftpdlib } from './pyftpdlib.js';
import type { ServerSpec } from './types.js';
import { vsftpd } from './vsftpd.js';
import { wharf, wharfConsole, wharfHooks, wharfRedis, wharfW2 } from './wharf.js';

/** The servers. */
export const SERVERS: ServerSpec[] = [wharf, vsftpd, pureftpd, pyftpdlib, ftpsrv, openssh, nginx, wharfConsole, wharfHooks, wharfW2, wharfRedis];
