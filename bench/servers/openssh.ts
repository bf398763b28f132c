/**
 * OpenSSH's sshd (Debian's openssh-server) as the SFTP peer: a test
 * instance in the foreground (`-D -e`) with its own sshd_config on a
 * loopback port, its own ed25519 host key, key logins for root only (the
 * client key of the run), and the SFTP subsystem as `internal-sftp -d
 * ROOT`: the sftp-server code run inside the session process rather than
 * exec'd (the same code and protocol; it saves an exec per login), starting
 * in the dataset's root so both servers see the same relative paths. No
 * chroot (the dataset lives under /tmp, which ChrootDirectory refuses).
 * sshd forks (and re-execs itself) per connection, as it does in
 * production; every process is charged to the server's cgroup. LogLevel
 * ERROR: like the FTP peers and Wharf at "warn", no line per login.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startProcess } from './launch.js';
import type { ServerSpec } from './types.js';

/** The sshd binary (it must be started by its absolute path to re-exec itself). */
export const SSHD = '/usr/sbin/sshd';

/** The package version, e.g. `1:9.2p1-2+deb12u10` (dpkg), else sshd -V's first word. */
export function sshdVersion(): string {
  const dpkg = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'openssh-server'], { encoding: 'utf8' });
  if (dpkg.status === 0 && dpkg.stdout.trim()) return `openssh-server ${dpkg.stdout.trim()}`;
  const v = spawnSync(SSHD, ['-V'], { encoding: 'utf8' });
  return (v.stderr ?? '').trim().split(',')[0] || '?';
}

/** The sshd_config of the test instance. */
export function sshdConfig(port: number, hostKey: string, authorizedKeys: string, root: string): string {
  return [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${hostKey}`,
    'PidFile none',
    'UsePAM no',
    'UseDNS no',
    'StrictModes no',
    `AuthorizedKeysFile ${authorizedKeys}`,
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    'AllowUsers root',
    'X11Forwarding no',
    'AllowTcpForwarding no',
    'AllowAgentForwarding no',
    'PrintMotd no',
    'PrintLastLog no',
    // Wharf admits up to max_connections; sshd's default (10:30:100) drops unauthenticated ones past 10.
    'MaxStartups 1000',
    'LogLevel ERROR',
    `Subsystem sftp internal-sftp -d ${root}`,
    '',
  ].join('\n');
}

/** sshd with internal-sftp. */
export const openssh: ServerSpec = {
  name: 'openssh',
  tls: false,
  mlsd: false,
  forks: true,
  protocols: ['sftp'],
  note: `Debian ${sshdVersion()}, Subsystem sftp internal-sftp, key login as root, LogLevel ERROR`,
  async start(env) {
    if (!env.ssh) throw new Error('no SSH keys for sshd (see the dataset log)');
    // sshd's privilege separation directory.
    await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
    const authorized = path.join(env.workDir, 'authorized_keys');
    await writeFile(authorized, `${env.ssh.clientPub}\n`);
    const config = path.join(env.workDir, 'sshd_config');
    await writeFile(config, sshdConfig(env.port, env.ssh.sshdHostKey, authorized, env.dataset.root));
    const server = await startProcess(SSHD, ['-D', '-e', '-f', config], {
      cpu: env.cpu,
      port: env.port,
      logFile: path.join(env.workDir, 'sshd.log'),
      probes: [{ kind: 'ssh', port: env.port }],
    });
    return { ...server, sftpUser: env.ssh.user.openssh };
  },
};
