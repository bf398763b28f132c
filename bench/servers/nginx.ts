/**
 * nginx (Debian's `nginx-light`, which in Debian 12 installs the `nginx`
 * package's binary) as the HTTP peer of Wharf's web view: the dataset's
 * root with `autoindex on`, on one core, with its own nginx.conf in the
 * run's work directory:
 *
 * - `daemon off` (the harness owns the process), `master_process on` and
 *   `worker_processes 1`: the production layout, one worker doing all the
 *   serving (as `www-data`, like Debian's config; the dataset is world
 *   readable), the master idle; both are pinned by taskset (the worker
 *   inherits it) and charged to the server's cgroup;
 * - `sendfile on`, `tcp_nopush on` (Debian's defaults): the file's bytes
 *   never enter user space;
 * - `access_log off`; Wharf logs at "warn" in the bench, so neither writes a
 *   line per request; the error log and the pid file are in the work
 *   directory, and so are the temp directories (never used: GET only);
 * - `keepalive_requests` raised so the directory page scenario keeps one
 *   connection (Wharf's web view has no such limit); worker_connections
 *   1024 for the 100 concurrent clients.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startProcess } from './launch.js';
import type { ServerSpec } from './types.js';

/** The nginx binary. */
export const NGINX = '/usr/sbin/nginx';

/** The package version, e.g. `nginx 1.22.1-9+deb12u11` (dpkg), else nginx -v's. */
function nginxVersion(): string {
  const dpkg = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'nginx'], { encoding: 'utf8' });
  if (dpkg.status === 0 && dpkg.stdout.trim()) return `nginx ${dpkg.stdout.trim()}`;
  const v = spawnSync(NGINX, ['-v'], { encoding: 'utf8' });
  return (v.stderr ?? '').trim().replace(/^nginx version: /, '') || '?';
}

/** The nginx.conf of the test instance. */
export function nginxConfig(workDir: string, port: number, root: string): string {
  const tmp = (name: string) => JSON.stringify(path.join(workDir, 'tmp', name));
  return [
    'daemon off;',
    'master_process on;',
    'worker_processes 1;',
    'user www-data;',
    `error_log ${JSON.stringify(path.join(workDir, 'error.log'))} warn;`,
    `pid ${JSON.stringify(path.join(workDir, 'nginx.pid'))};`,
    'events {',
    '  worker_connections 1024;',
    '}',
    'http {',
    '  default_type application/octet-stream;',
    '  sendfile on;',
    '  tcp_nopush on;',
    '  access_log off;',
    '  keepalive_requests 100000;',
    `  client_body_temp_path ${tmp('body')};`,
    `  proxy_temp_path ${tmp('proxy')};`,
    `  fastcgi_temp_path ${tmp('fastcgi')};`,
    `  uwsgi_temp_path ${tmp('uwsgi')};`,
    `  scgi_temp_path ${tmp('scgi')};`,
    '  server {',
    `    listen 127.0.0.1:${port};`,
    '    server_name localhost;',
    `    root ${JSON.stringify(root)};`,
    '    location / {',
    '      autoindex on;',
    '    }',
    '  }',
    '}',
    '',
  ].join('\n');
}

/** nginx with autoindex. */
export const nginx: ServerSpec = {
  name: 'nginx',
  tls: false,
  mlsd: false,
  forks: true,
  protocols: ['http'],
  note: `Debian ${nginxVersion()} (nginx-light), master + 1 worker, autoindex on, sendfile on, tcp_nopush on, access_log off`,
  async start(env) {
    await mkdir(path.join(env.workDir, 'tmp'), { recursive: true });
    const config = path.join(env.workDir, 'nginx.conf');
    await writeFile(config, nginxConfig(env.workDir, env.port, env.dataset.root));
    const server = await startProcess(NGINX, ['-p', `${env.workDir}/`, '-e', path.join(env.workDir, 'error.log'), '-c', config], {
      cpu: env.cpu,
      port: env.port,
      logFile: path.join(env.workDir, 'nginx.out'),
      probes: [{ kind: 'http', port: env.port }],
    });
    return { ...server, httpPort: env.port };
  },
};
