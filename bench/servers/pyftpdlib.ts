/**
 * pyftpdlib 1.5.7 (Debian's python3-pyftpdlib, run with /usr/bin/python3):
 * TLS_FTPHandler (plain sessions still allowed), anonymous read access with
 * write access to the incoming directory, sendfile on, logging at WARNING,
 * connection limits raised, and the file descriptor limit raised to the hard
 * limit as Node does for itself.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startProcess } from './launch.js';
import type { ServerSpec } from './types.js';

const SCRIPT = `
import json, logging, resource, sys, warnings
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import TLS_FTPHandler
from pyftpdlib.servers import FTPServer
o = json.loads(sys.argv[1])
logging.basicConfig(level=logging.WARNING)
warnings.simplefilter('ignore')
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
auth = DummyAuthorizer()
auth.add_anonymous(o['root'], perm='elr')
auth.override_perm('anonymous', o['incoming'], 'elrw', recursive=True)
class Handler(TLS_FTPHandler):
    pass
Handler.authorizer = auth
Handler.banner = 'pyftpdlib ready'
Handler.certfile = o['cert']
Handler.keyfile = o['key']
Handler.passive_ports = range(o['pasv'][0], o['pasv'][1] + 1)
Handler.timeout = 900
server = FTPServer(('127.0.0.1', o['port']), Handler)
server.max_cons = 10000
server.max_cons_per_ip = 0
server.serve_forever(timeout=1.0)
`;

/** pyftpdlib. */
export const pyftpdlib: ServerSpec = {
  name: 'pyftpdlib',
  tls: true,
  mlsd: true,
  forks: false,
  note: 'Debian 1.5.7, TLS_FTPHandler, sendfile, epoll',
  async start(env) {
    const script = path.join(env.workDir, 'pyftpd.py');
    await writeFile(script, SCRIPT);
    const opts = {
      root: env.dataset.root,
      incoming: path.join(env.dataset.root, env.dataset.incoming),
      cert: env.cert.cert,
      key: env.cert.key,
      pasv: env.passive,
      port: env.port,
    };
    return startProcess('/usr/bin/python3', [script, JSON.stringify(opts)], {
      cpu: env.cpu,
      port: env.port,
      logFile: path.join(env.workDir, 'pyftpdlib.log'),
    });
  },
};
