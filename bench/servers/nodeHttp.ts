/**
 * `node-http`: the floor of a Node web server (nodeHttpMain.ts), measured
 * beside Wharf's web view and nginx on the HTTP scenarios: node:http and
 * Wharf's sendfile addon with nothing else, so that Wharf ÷ node-http is
 * the cost of Wharf's own code and node-http ÷ nginx Node's.
 */
import path from 'node:path';
import { startProcess } from './launch.js';
import type { ServerSpec } from './types.js';

const HERE = path.dirname(new URL(import.meta.url).pathname);
const MAIN = path.join(HERE, 'nodeHttpMain.js');
/** dist/bench/servers/ -> the package root, where `npm ci` builds the addon. */
const ADDON = path.join(HERE, '..', '..', '..', 'build', 'Release', 'wharf_native.node');

/** The Node floor. */
export const nodeHttp: ServerSpec = {
  name: 'node-http',
  tls: false,
  mlsd: false,
  forks: false,
  protocols: ['http'],
  note: `Node ${process.versions.node} node:http, Wharf's sendfile addon, no rules, events or logs; a bare autoindex made afresh per page (the floor under any Node web server)`,
  async start(env) {
    const opts = { port: env.port, root: env.dataset.root, addon: ADDON };
    const server = await startProcess(process.execPath, [MAIN, JSON.stringify(opts)], {
      cpu: env.cpu,
      port: env.port,
      logFile: path.join(env.workDir, 'node-http.log'),
      probes: [{ kind: 'http', port: env.port }],
    });
    return { ...server, httpPort: env.port };
  },
};
