/**
 * Child process entry that runs ftp-srv (the npm package) for the
 * benchmark: `node ftpsrvMain.js '<json options>'`. Anonymous logins get the
 * dataset root; logging is silenced; SIGTERM closes it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { FtpSrv } from 'ftp-srv';

/** bunyan comes with ftp-srv (its logger), untyped. */
const require = createRequire(import.meta.url);
const bunyan = require(require.resolve('bunyan', { paths: [require.resolve('ftp-srv')] })) as {
  createLogger(opts: { name: string; level: string }): unknown;
};

interface Options {
  port: number;
  root: string;
  pasv: [number, number];
  cert: string;
  key: string;
}

const opts = JSON.parse(process.argv[2] ?? '{}') as Options;
const server = new FtpSrv({
  url: `ftp://127.0.0.1:${opts.port}`,
  pasv_url: '127.0.0.1',
  pasv_min: opts.pasv[0],
  pasv_max: opts.pasv[1],
  anonymous: true,
  greeting: 'ftp-srv ready',
  tls: { cert: readFileSync(opts.cert), key: readFileSync(opts.key) },
  log: bunyan.createLogger({ name: 'ftp-srv', level: 'fatal' }),
  timeout: 900_000,
});
server.on('login', (_data: unknown, resolve: (r: { root: string }) => void) => resolve({ root: opts.root }));
process.on('SIGTERM', () => {
  void Promise.resolve(server.close()).finally(() => process.exit(0));
});
void server.listen();
