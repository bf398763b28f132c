/**
 * pure-ftpd 1.0.50 (Debian's binary, extracted by setup.sh since the
 * package conflicts with vsftpd). Its anonymous root is the home of the
 * system user `ftp`, so it runs in a private mount namespace where the
 * dataset is bind-mounted over that home: nothing changes outside it. It
 * forks per session. Listings are allowed up to 2,000,000 entries (it cuts
 * them at 2,000 by default; the scaling scenarios list 1,000,000), and its passive range is large because it
 * serves at most half as many clients as it has passive ports.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { startProcess } from './launch.js';
import type { ServerSpec } from './types.js';

const BENCH_DIR = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..', 'bench');

/** Where setup.sh extracts the binary. */
export function pureFtpdBinary(): string {
  return path.join(process.env.BENCH_TOOLS ?? path.join(BENCH_DIR, '.tools'), 'pure-ftpd', 'usr', 'sbin', 'pure-ftpd');
}

/** The home directory of the `ftp` user, which pure-ftpd serves to anonymous. */
function ftpHome(): string {
  const line = execFileSync('getent', ['passwd', 'ftp'], { encoding: 'utf8' }).trim();
  const home = line.split(':')[5];
  if (!home) throw new Error('pure-ftpd needs a system user "ftp" with a home directory');
  return home;
}

/** pure-ftpd. */
export const pureftpd: ServerSpec = {
  name: 'pure-ftpd',
  tls: true,
  mlsd: true,
  forks: true,
  note: 'Debian 1.0.50, -L 2000000:8, TLS level 1 (optional)',
  async start(env) {
    const args = [
      '-S',
      `127.0.0.1,${env.port}`,
      '-e', // anonymous only
      '-H', // no reverse DNS
      '-4',
      '-p',
      `${env.passive[0]}:${env.passive[1]}`,
      '-c',
      '5000',
      '-C',
      '5000',
      '-L',
      '2000000:8',
      '-I',
      '15',
      '-m',
      '1000',
      '-k',
      '100',
      '-g',
      path.join(env.workDir, 'pure-ftpd.pid'),
      '-Y',
      '1',
      '-2',
      `${env.cert.cert},${env.cert.key}`,
    ];
    const wrapper = ['unshare', '-m', 'sh', '-c', 'mount --bind "$0" "$1" && shift && exec "$@"', env.dataset.root, ftpHome()];
    return startProcess(pureFtpdBinary(), args, {
      cpu: env.cpu,
      port: env.port,
      logFile: path.join(env.workDir, 'pure-ftpd.log'),
      wrapper,
    });
  },
};
