/**
 * Every server the benchmark knows, in report order (Wharf first; OpenSSH's
 * sshd serves only the SFTP scenarios, nginx and the node-http floor only
 * the HTTP ones; Wharf's
 * S3 front-ends, rclone's (SFTP and HTTP; FTP where rclone has it) and the
 * direct-SDK ceiling serve only the S3 scenarios;
 * Wharf's console variants last, run only when named in BENCH_SERVERS).
 */
import { ftpsrv } from './ftpsrv.js';
import { nginx } from './nginx.js';
import { nodeHttp } from './nodeHttp.js';
import { openssh } from './openssh.js';
import { pureftpd } from './pureftpd.js';
import { pyftpdlib } from './pyftpdlib.js';
import { rclone, rcloneS3, s3Sdk, wharfS3 } from './s3.js';
import type { ServerSpec } from './types.js';
import { vsftpd } from './vsftpd.js';
import { wharf, wharfConsole, wharfCopy, wharfHooks, wharfRedis, wharfW2 } from './wharf.js';

/** The servers. */
export const SERVERS: ServerSpec[] = [
  wharf,
  vsftpd,
  pureftpd,
  pyftpdlib,
  ftpsrv,
  openssh,
  nginx,
  nodeHttp,
  wharfS3,
  rcloneS3,
  rclone,
  s3Sdk,
  wharfConsole,
  wharfHooks,
  wharfW2,
  wharfRedis,
  wharfCopy,
];
