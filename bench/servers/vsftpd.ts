/**
 * vsftpd 3.0.3 (Debian), standalone in the foreground with its own config:
 * anonymous access to the dataset, anonymous uploads into the writable
 * incoming directory, FTPS allowed but not forced, TLS capped at 1.2 through
 * OPENSSL_CONF (PEERS.md: 3.0.3 predates TLS 1.3). It forks per session.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startProcess } from './launch.js';
import type { ServerSpec } from './types.js';

/** vsftpd. */
export const vsftpd: ServerSpec = {
  name: 'vsftpd',
  tls: true,
  mlsd: false,
  forks: true,
  note: 'Debian 3.0.3, sendfile, TLS 1.2 cap, seccomp sandbox off',
  async start(env) {
    const empty = path.join(env.workDir, 'vsftpd-empty');
    await mkdir(empty, { recursive: true });
    const lines = [
      'listen=YES',
      'listen_ipv6=NO',
      'listen_address=127.0.0.1',
      `listen_port=${env.port}`,
      'background=NO',
      'anonymous_enable=YES',
      'local_enable=NO',
      'write_enable=YES',
      'anon_upload_enable=YES',
      'anon_umask=022',
      `anon_root=${env.dataset.root}`,
      'no_anon_password=YES',
      'seccomp_sandbox=NO',
      `secure_chroot_dir=${empty}`,
      'xferlog_enable=NO',
      'syslog_enable=NO',
      'dirmessage_enable=NO',
      'use_localtime=NO',
      'pasv_enable=YES',
      `pasv_min_port=${env.passive[0]}`,
      `pasv_max_port=${env.passive[1]}`,
      'max_clients=10000',
      'max_per_ip=10000',
      'idle_session_timeout=900',
      'data_connection_timeout=120',
      'ftpd_banner=vsftpd ready',
      'ssl_enable=YES',
      `rsa_cert_file=${env.cert.cert}`,
      `rsa_private_key_file=${env.cert.key}`,
      'allow_anon_ssl=YES',
      'force_anon_logins_ssl=NO',
      'force_anon_data_ssl=NO',
      'require_ssl_reuse=YES',
      'ssl_ciphers=HIGH',
    ];
    const conf = path.join(env.workDir, 'vsftpd.conf');
    await writeFile(conf, `${lines.join('\n')}\n`);
    const sslConf = path.join(env.workDir, 'openssl-tls12.cnf');
    await writeFile(sslConf, 'openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\nsystem_default = sys\n[sys]\nMaxProtocol = TLSv1.2\n');
    return startProcess('/usr/sbin/vsftpd', [conf], {
      cpu: env.cpu,
      port: env.port,
      logFile: path.join(env.workDir, 'vsftpd.log'),
      env: { OPENSSL_CONF: sslConf },
    });
  },
};
