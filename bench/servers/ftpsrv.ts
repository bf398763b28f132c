/**
 * ftp-srv (npm), the Node incumbent, run by ftpsrvMain.js in its own
 * process: anonymous access, explicit FTPS offered.
 */
import path from 'node:path';
import { startProcess } from './launch.js';
import type { ServerSpec } from './types.js';

const MAIN = path.join(path.dirname(new URL(import.meta.url).pathname), 'ftpsrvMain.js');

/** ftp-srv. */
export const ftpsrv: ServerSpec = {
  name: 'ftp-srv',
  tls: true,
  mlsd: false,
  forks: false,
  earlyDataTls: true,
  // Its LIST of 1,000,000 entries ran 4 minutes, grew to 3 GiB and ended in
  // "451 Maximum call stack size exceeded" (it stats every entry before the 150).
  maxScaleListing: 100_000,
  note: 'npm 4.6.3, no MLSD, passive connection polled every 50 ms; its FTPS data connections need the TLS handshake before the 150 reply',
  async start(env) {
    const opts = { port: env.port, root: env.dataset.root, pasv: env.passive, cert: env.cert.cert, key: env.cert.key };
    return startProcess(process.execPath, [MAIN, JSON.stringify(opts)], {
      cpu: env.cpu,
      port: env.port,
      logFile: path.join(env.workDir, 'ftp-srv.log'),
    });
  },
};
