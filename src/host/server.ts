/**
 * The server as a whole, and as a library: builds the shared core (config,
 * events, shared state, storage, logins) and the protocol listeners on it.
 * `createServer(config)` takes the TOML's shape, validated the same way.
 */
import { buildConfig, type UserConfig, type WharfConfig } from '../config/load.js';
import { anonymousAccess } from '../auth/access.js';
import { LoginService, type AnonymousArea } from '../auth/login.js';
import { resolveVirtualPath } from '../vfs/path.js';
import { VfsError } from '../vfs/errors.js';
import type { Vfs } from '../vfs/types.js';
import { stateFor } from './state.js';
import type { SharedState } from '../state/types.js';
import { FtpServer } from '../server/server.js';
import { loadHostKeys, SftpServer } from '../sftp/server.js';
import { HttpServer } from '../http/server.js';
import { TlsMaterial } from '../server/tls/material.js';
import type { Core } from '../core/context.js';
import { ServerEvents, type ServerEventMap } from '../events/events.js';
import { silentLogger, type Logger } from '../events/log.js';
import { StorageOpener } from '../core/storage.js';
import { logEvents, xferlogEvents } from '../events/subscribers.js';
import { HookRunner, subscribeHooks, type EventOrigin, type HookRunnerOptions } from '../events/hooks/index.js';
import { ConfigError } from '../config/load.js';
import { isLocalSpec } from '../config/storage.js';
import { join } from 'node:path';
import { AdminServer, type AdminSources } from '../admin/server.js';
import { Metrics } from '../admin/metrics.js';
import { combineSources, type SessionSource } from '../core/sessions.js';

/** Where the server listens, once `listen()` resolved. */
export interface ListeningAddresses {
  ftp: { host: string; port: number };
  /** Implicit FTPS, when `tls.implicit_port` is set. */
  ftps?: { host: string; port: number };
  /** SFTP, when `[sftp]` is set. */
  sftp?: { host: string; port: number };
  /** The web view, when `[http]` is set (`secure`: HTTPS). */
  http?: { host: string; port: number; secure: boolean };
  /** The operator's console, when `[admin]` is set (`secure`: HTTPS). */
  admin?: { host: string; port: number; secure: boolean };
}

/** Options beyond the config. */
export interface WharfServerOptions {
  /** The JSON log (default: silent). */
  logger?: Logger;
  /** Shared state (default: in memory, this process only). */
  state?: SharedState;
  /** The time, for anonymous `hours` (default: the system clock; tests pass a fixed one). */
  clock?: () => Date;
  /**
   * Reads the config again, for `reload()` (SIGHUP, `POST /api/reload`);
   * `wharf serve` re-reads its file. Without it, reload is refused.
   */
  reloadConfig?: () => Promise<WharfConfig>;
  /** Limits of the hook runner (concurrency, queue, first retry back-off). */
  hooks?: Partial<Omit<HookRunnerOptions, 'log'>>;
  /** The node and worker this server is, for hooks (`WHARF_NODE`, `WHARF_WORKER`); `wharf serve` sets them. */
  origin?: EventOrigin;
  /** Session ids: `first`, then every `step` (default 1, 1); the workers of a node take ids apart this way. */
  sessionIds?: { first: number; step: number };
}

/** A Wharf server: every protocol it speaks, on one core. */
export class WharfServer {
  readonly events = new ServerEvents();
  readonly log: Logger;
  private readonly storage: StorageOpener;
  private readonly state: SharedState;
  private ftp: FtpServer | null = null;
  private sftp: SftpServer | null = null;
  private admin: AdminServer | null = null;
  private http: HttpServer | null = null;
  private tls: TlsMaterial | null = null;
  private core: (Core & { closing: boolean }) | null = null;
  private xferlog: { close(): Promise<void> } | null = null;
  /** The `[[hooks]]` runner (after `listen`): its stats count runs, failures and drops. */
  hooks: HookRunner | null = null;
  private unhook: () => void = () => undefined;
  private ownMetrics: Metrics | null = null;
  /** The config in force: the one given, then the last one reloaded. */
  private current: WharfConfig;
  private nextId: number;
  private readonly idStep: number;
  /** Resolves with the number of crash leftovers removed at start. */
  recovered: Promise<number> = Promise.resolve(0);

  constructor(
    readonly config: WharfConfig,
    private readonly options: WharfServerOptions = {},
  ) {
    this.current = config;
    this.nextId = options.sessionIds?.first ?? 1;
    this.idStep = options.sessionIds?.step ?? 1;
    this.storage = new StorageOpener({ s3: config.storage?.s3 });
    this.log = options.logger ?? silentLogger();
    this.state = options.state ?? stateFor(config, this.log);
    logEvents(this.events, this.log);
  }

  /** Subscribes to a server event. */
  on<K extends keyof ServerEventMap>(name: K, listener: (...args: ServerEventMap[K]) => void): this {
    this.events.on(name, listener as never);
    return this;
  }

  /** Unsubscribes. */
  off<K extends keyof ServerEventMap>(name: K, listener: (...args: ServerEventMap[K]) => void): this {
    this.events.off(name, listener as never);
    return this;
  }

  /** Opens storage, starts every listener; resolves with their addresses. */
  async listen(): Promise<ListeningAddresses> {
    const c = this.config;
    // A shared state gets a moment to connect, so the first sessions share its limits (bounded: never blocks start).
    await this.state.ready?.();
    const anonymous = c.anonymous ? await this.openAnonymous() : null;
    const tls = c.tls ? await TlsMaterial.load(c.tls.cert, c.tls.key) : null;
    this.tls = tls;
    const hostKeys = c.sftp ? await loadHostKeys(c.sftp.host_keys) : null;
    if (c.log.transfer_log) this.xferlog = xferlogEvents(this.events, c.log.transfer_log);
    this.hooks = new HookRunner({ log: this.log, ...this.options.hooks });
    this.unhook = subscribeHooks(this.events, c.hooks, this.hooks, (a, p) => this.localPath(a, p), this.options.origin);
    const auth = new LoginService({ config: c, state: this.state, events: this.events, anonymous, openHome: (u) => this.openHome(u), clock: this.options.clock });
    this.core = {
      config: c,
      log: this.log,
      events: this.events,
      state: this.state,
      auth,
      anonymous,
      nextSessionId: () => {
        const id = this.nextId;
        this.nextId += this.idStep;
        return id;
      },
      closing: false,
    };
    this.recovered = this.recover(new Date(), anonymous);
    this.ftp = new FtpServer(this.core, tls);
    if (hostKeys) this.sftp = new SftpServer(this.core, hostKeys);
    if (c.http) this.http = new HttpServer(this.core, c.http.tls && tls ? tls.pem : null);
    if (c.admin) this.admin = this.adminServer(c.admin, tls);
    try {
      await this.ftp.listen();
      await this.sftp?.listen().catch((err: unknown) => {
        throw Object.assign(err as Error, { setting: 'sftp.port' });
      });
      await this.http?.listen().catch((err: unknown) => {
        throw Object.assign(err as Error, { setting: 'http.port' });
      });
      await this.admin?.listen().catch((err: unknown) => {
        throw Object.assign(err as Error, { setting: 'admin.port' });
      });
    } catch (err) {
      // A listener that cannot start leaves nothing behind: the others, the xferlog, storage.
      await this.close(0);
      throw err;
    }
    return this.addresses;
  }

  /** The listening addresses (after `listen`). */
  get addresses(): ListeningAddresses {
    if (!this.ftp) throw new Error('server is not listening');
    const a = this.ftp.address;
    const i = this.ftp.implicitAddress;
    const s = this.sftp?.address;
    const h = this.http?.address;
    const m = this.admin?.address;
    return {
      ftp: { host: a.address, port: a.port },
      ...(i ? { ftps: { host: i.address, port: i.port } } : {}),
      ...(s ? { sftp: { host: s.address, port: s.port } } : {}),
      ...(h ? { http: { host: h.address, port: h.port, secure: this.http?.secure === true } } : {}),
      ...(m ? { admin: { host: m.address, port: m.port, secure: this.admin?.secure === true } } : {}),
    };
  }

  /** The FTP listener (tests and monitoring). */
  get ftpServer(): FtpServer {
    if (!this.ftp) throw new Error('server is not listening');
    return this.ftp;
  }

  /**
   * Reloads what may change without dropping sessions: users (passwords,
   * homes, permissions, keys), hooks, anonymous hours, and the TLS
   * certificate. An invalid new config is refused (ConfigError) and the old
   * one stays in force. Resolves with what changed and what needs a restart.
   */
  async reload(): Promise<{ reloaded: string[]; restartNeeded: string[] }> {
    if (!this.options.reloadConfig) throw new ConfigError(['reload: this server was not started from a config file']);
    if (!this.core) throw new ConfigError(['reload: the server is not listening']);
    const next = await this.options.reloadConfig();
    const old = this.current;
    if (this.tls) {
      await this.reloadTls().catch((err: unknown) => {
        throw Object.assign(err as Error, { tls: true });
      });
    }
    this.core.auth.reload(next);
    this.unhook();
    this.unhook = this.hooks ? subscribeHooks(this.events, next.hooks, this.hooks, (a, p) => this.localPath(a, p), this.options.origin) : () => undefined;
    this.current = next;
    // What reload does not apply: the sections (anonymous without its hours) that changed.
    const fixed = (c: WharfConfig) => ({
      server: c.server,
      sftp: c.sftp,
      http: c.http,
      admin: c.admin,
      log: c.log,
      tls: c.tls,
      anonymous: { ...c.anonymous, hours: undefined, timezone: undefined },
    });
    const before = fixed(old);
    const after = fixed(next);
    const restartNeeded = (Object.keys(after) as (keyof typeof after)[]).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
    this.log.info({ event: 'reload', restartNeeded }, restartNeeded.length ? `reloaded; a restart is needed for: ${restartNeeded.join(', ')}` : 'reloaded');
    return { reloaded: ['users', 'hooks', 'anonymous.hours', ...(this.tls ? ['tls certificate'] : [])], restartNeeded };
  }

  /** Re-reads the TLS certificate and key (SIGHUP); new sessions use them. */
  async reloadTls(): Promise<void> {
    await this.ftp?.reloadTls();
    if (this.tls) this.http?.reloadTls(this.tls.pem);
  }

  /** Stops listening, lets transfers finish for `graceSeconds`, ends every session, releases every handle. */
  async close(graceSeconds = this.config.server.shutdown_grace): Promise<void> {
    if (this.core) this.core.closing = true;
    await Promise.all([this.ftp?.close(graceSeconds), this.sftp?.close(), this.http?.close(graceSeconds), this.admin?.close()]);
    await this.recovered.catch(() => 0);
    await this.xferlog?.close();
    this.unhook();
    await this.hooks?.close(graceSeconds * 1000);
    await this.storage.close();
    await this.state.close();
  }

  /**
   * Metrics on this server's events and rooms without an admin listener of
   * its own (after `listen`): a worker's share of its node's `/metrics`.
   */
  metrics(): Metrics {
    if (!this.core) throw new Error('server is not listening');
    this.ownMetrics ??= new Metrics(this.events, { ...this.consoleSources(), state: this.state });
    return this.ownMetrics;
  }

  /** The sessions of every protocol room, as one source. */
  get sessions(): SessionSource {
    return this.consoleSources().sessions;
  }

  /** The admin listener on the sessions of every protocol room. */
  private adminServer(settings: NonNullable<WharfConfig['admin']>, tls: TlsMaterial | null): AdminServer {
    return new AdminServer(this.core as Core, settings, this.consoleSources(), settings.tls && tls ? tls.pem : null);
  }

  /** What the console reads of this server. */
  private consoleSources(): AdminSources {
    const rooms: SessionSource[] = [];
    const ftp = this.ftp;
    if (ftp) rooms.push({ sessions: () => ftp.liveSessions(), disconnect: (id, reason) => ftp.disconnect(id, reason) });
    const sftp = this.sftp;
    if (sftp) rooms.push({ sessions: () => sftp.liveSessions(), disconnect: (id) => sftp.disconnect(id) });
    const http = this.http;
    if (http) rooms.push({ sessions: () => http.liveSessions(), disconnect: (id) => http.disconnect(id) });
    return {
      sessions: combineSources(rooms),
      replies: () => ftp?.replyCounts ?? [],
      passivePorts: () => ftp?.passivePortsInUse ?? 0,
      hooks: () => this.hooks?.stats ?? null,
      reload: () => this.reload(),
    };
  }

  /** Where a virtual path is on this machine's disk, for hooks' WHARF_LOCAL_PATH (local storage only). */
  private localPath(account: { user: string; anonymous: boolean }, path: string): string | undefined {
    const root = account.anonymous ? this.config.anonymous?.root : this.config.users.find((u) => u.name === account.user)?.home;
    return root !== undefined && isLocalSpec(root) ? join(root, path) : undefined;
  }

  private openHome(user: UserConfig): Promise<Vfs> {
    return this.storage.open(user.home, { keepPartialUploads: user.keepPartialUploads }, `user:${user.name}`);
  }

  private async openAnonymous(): Promise<AnonymousArea> {
    const cfg = this.config.anonymous as NonNullable<WharfConfig['anonymous']>;
    const vfs = await this.storage.open(cfg.root, {}, 'anonymous');
    const uploadDir = cfg.upload_dir ? resolveVirtualPath('/', cfg.upload_dir) : undefined;
    const drop = uploadDir === '/' ? undefined : uploadDir;
    // A fresh tree (memory:) has no drop box yet: make it.
    if (drop) await vfs.stat(drop).catch((err) => (err instanceof VfsError && err.code === 'not-found' ? vfs.mkdir(drop) : undefined));
    return { vfs, uploadDir: drop, access: anonymousAccess(drop) };
  }

  /** Clears what uploads interrupted by a crash left, in the background. */
  private async recover(startedAt: Date, anonymous: AnonymousArea | null): Promise<number> {
    const jobs: Promise<number>[] = [];
    if (anonymous?.uploadDir && anonymous.vfs.recover) jobs.push(anonymous.vfs.recover(startedAt, anonymous.uploadDir));
    for (const u of this.config.users) {
      const vfs = await this.openHome(u).catch(() => null);
      if (vfs?.recover) jobs.push(vfs.recover(startedAt));
    }
    const removed = (await Promise.all(jobs.map((j) => j.catch(() => 0)))).reduce((a, b) => a + b, 0);
    if (removed > 0) this.log.info({ event: 'temp-swept', removed }, `removed ${removed} temporary upload file(s) left by an interrupted run`);
    return removed;
  }
}

/** The config as an object: the TOML's shape, where a root or home may also be a Vfs. */
export type ServerConfigInput = Record<string, unknown>;

/**
 * Creates a server from a config object shaped like the TOML file,
 * validated the same way (relative paths are relative to the working
 * directory). Call `listen()` to start it.
 */
export function createServer(config: ServerConfigInput, options: WharfServerOptions = {}): WharfServer {
  return new WharfServer(buildConfig(config, process.cwd()), options);
}
