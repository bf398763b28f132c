/**
 * `wharf serve`: builds the config (file, flags, or the zero-config
 * default), starts the server, prints the listening line, and shuts down
 * gracefully on SIGTERM/SIGINT.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { buildConfig, checkConfigPaths, ConfigError, loadConfigFile, type WharfConfig } from '../config/load.js';
import { WharfServer } from '../host/server.js';
import { isLocalSpec } from '../config/storage.js';
import { createLogger, type Logger } from '../events/log.js';
import { hostname } from 'node:os';
import type { ListeningAddresses } from '../host/server.js';
import { workerCount } from '../host/cluster/plan.js';
import { isClusterWorker, servePrimary, serveWorker } from './serveCluster.js';
import { checkS3Storage } from '../core/storage.js';

/** Flags of `wharf serve`. */
export interface ServeOptions {
  config?: string;
  port?: number;
  host?: string;
  root?: string;
}

const DEFAULT_README = `This directory is served by Wharf, anonymously and read-only.
Put the files you want to publish here.
`;

/** Creates the default root with a short README when it does not exist. */
async function ensureDefaultRoot(root: string): Promise<void> {
  const exists = await stat(root).then(
    () => true,
    () => false,
  );
  if (exists) return;
  await mkdir(root, { recursive: true });
  await writeFile(resolve(root, 'README'), DEFAULT_README);
}

/** The config `serve` runs with. */
export async function serveConfig(opts: ServeOptions): Promise<WharfConfig> {
  let config: WharfConfig;
  if (opts.config) {
    config = await loadConfigFile(opts.config);
    if (opts.root) {
      if (!config.anonymous) throw new ConfigError(['--root: the config has no [anonymous] section to serve it']);
      config.anonymous.root = isLocalSpec(opts.root) ? resolve(opts.root) : opts.root;
    }
  } else {
    const root = isLocalSpec(opts.root ?? 'public') ? resolve(opts.root ?? 'public') : (opts.root as string);
    if (!opts.root) await ensureDefaultRoot(root);
    config = buildConfig({ anonymous: { enabled: true, root } }, process.cwd());
  }
  if (opts.port !== undefined) config.server.port = opts.port;
  if (opts.host !== undefined) config.server.host = opts.host;
  const problems = await checkConfigPaths(config);
  if (problems.length > 0) throw new ConfigError(problems);
  // s3:// roots and homes: the bucket must answer now, not at the first login.
  const storage = await checkS3Storage(config);
  if (storage.length > 0) throw new ConfigError(storage);
  return config;
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** The host and port a listener setting names. */
function listenerAt(config: WharfConfig, setting: string): [string, number | undefined] {
  const where: Record<string, [string, number | undefined]> = {
    'server.port': [config.server.host, config.server.port],
    'tls.implicit_port': [config.server.host, config.tls?.implicit_port],
    'sftp.port': [config.sftp?.host ?? config.server.host, config.sftp?.port],
    'http.port': [config.http?.host ?? config.server.host, config.http?.port],
    'admin.port': [config.admin?.host ?? '127.0.0.1', config.admin?.port],
  };
  return where[setting] ?? [config.server.host, config.server.port];
}

/** The one-line problem for a listener that could not start (or the error itself). */
export function listenProblem(config: WharfConfig, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  const setting = (err as { setting?: string }).setting ?? 'server.port';
  const [host, port] = listenerAt(config, setting);
  const hostSetting = ['sftp.port', 'http.port', 'admin.port'].includes(setting) ? setting.replace('.port', '.host') : 'server.host';
  if (code === 'EADDRINUSE') return new ConfigError([`${setting}: ${host}:${port} is already in use`]);
  if (code === 'EACCES') return new ConfigError([`${setting}: permission denied to listen on ${host}:${port}`]);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return new ConfigError([`${hostSetting}: cannot listen on ${host}`]);
  return err;
}

/** Prints the `wharf listening on ...` lines (once per node, whatever its workers). */
export function printListening(addresses: ListeningAddresses): void {
  const { ftp, ftps, sftp, http, admin } = addresses;
  process.stdout.write(`wharf listening on ftp://${urlHost(ftp.host)}:${ftp.port}\n`);
  if (ftps) process.stdout.write(`wharf listening on ftps://${urlHost(ftps.host)}:${ftps.port}\n`);
  if (sftp) process.stdout.write(`wharf listening on sftp://${urlHost(sftp.host)}:${sftp.port}\n`);
  if (http) process.stdout.write(`wharf listening on ${http.secure ? 'https' : 'http'}://${urlHost(http.host)}:${http.port}\n`);
  if (admin) process.stdout.write(`wharf listening on admin ${admin.secure ? 'https' : 'http'}://${urlHost(admin.host)}:${admin.port}\n`);
}

/** This node's name: `[server] node`, or the host name. */
export function nodeName(config: WharfConfig): string {
  return config.server.node ?? hostname();
}

/** The JSON log of `wharf serve`: every line names the node. */
export function serveLogger(config: WharfConfig, fields: Record<string, unknown> = {}): Logger {
  return createLogger(config.log.level).child({ node: nodeName(config), ...fields });
}

/** Runs the server until a signal; returns the exit code. */
export async function serve(opts: ServeOptions): Promise<number> {
  if (isClusterWorker()) return serveWorker(opts);
  const config = await serveConfig(opts);
  const count = workerCount(config.server.workers);
  if (count > 1) return servePrimary(opts, config, count);
  const logger = serveLogger(config);
  const server = new WharfServer(config, { logger, origin: { node: nodeName(config) }, reloadConfig: opts.config ? () => serveConfig(opts) : undefined });
  try {
    printListening(await server.listen());
  } catch (err) {
    throw listenProblem(config, err);
  }
  // SIGHUP: with a config file, reload users, hooks, hours and the certificate; without one, the certificate.
  const reload = () => {
    const done = opts.config ? server.reload() : server.reloadTls();
    done.catch((err: unknown) => {
      const event = (err as { tls?: boolean }).tls || !opts.config ? 'tls-reload-failed' : 'reload-failed';
      reloadRefused(logger, event, 'the old config (and certificate) stay in force', err);
    });
  };
  await untilStopped(logger, () => server.close(), reload);
  return 0;
}

/** Logs a refused reload in one line. */
export function reloadRefused(logger: Logger, event: string, kept: string, err: unknown): void {
  const msg = err instanceof ConfigError ? err.problems.join('; ') : String(err);
  logger.error({ event, err: msg }, `reload refused; ${kept}: ${msg}`);
}

/**
 * Serves until SIGTERM or SIGINT, then `close`; SIGHUP calls `reload`
 * meanwhile. A signal that came while starting (`early`) stops at once.
 */
export function untilStopped(logger: Logger, close: () => Promise<void>, reload: () => void, early: NodeJS.Signals | null = null): Promise<void> {
  process.on('SIGHUP', reload);
  return new Promise<void>((done) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      process.off('SIGHUP', reload);
      logger.info({ event: 'shutdown', signal }, 'shutting down');
      void close().then(done);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    if (early) stop(early);
  });
}
