/**
 * The SFTP room: an SSH listener (ssh2) on the same core as FTP. It admits
 * connections through the shared state (one count with FTP), asks the login
 * service for every password or key, and serves the `sftp` subsystem on
 * the account's Vfs within its rights. No shell, no exec, no forwarding.
 */
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { readFile } from 'node:fs/promises';
import ssh2 from 'ssh2';
import type { AuthContext, Connection } from 'ssh2';
import { ConfigError } from '../config/load.js';
import type { Core } from '../core/context.js';
import type { SessionRef } from '../events/events.js';
import { normalizeAddress } from '../protocol/address.js';
import type { Account } from '../auth/account.js';
import { keyProof } from './keys.js';
import { sftpContext } from './context.js';
import { SftpSession } from './session.js';
import { AheadBudget } from './files.js';
import { advertiseExtensions } from './wire.js';
import type { LiveTransfer, SessionInfo } from '../core/sessions.js';
import { ProxyGate, type Peer } from '../core/proxy.js';

/** How often login and idle deadlines are checked. */
const SWEEP_MS = 500;

/** Session channels one connection may have open (OpenSSH's MaxSessions default); each may hold many open files. */
const MAX_SESSIONS = 10;

/** One SSH connection. */
interface Conn {
  ref: SessionRef;
  client: Connection;
  account: Account | null;
  failures: number;
  deadline: number;
  sessions: Set<SftpSession>;
  /** Session channels open. */
  channels: number;
  /** Out-of-order upload data held, for all its channels together. */
  ahead: AheadBudget;
  /** Epoch milliseconds of the connection. */
  connectedAt: number;
}

/** Reads and checks the host keys; a problem is a ConfigError naming the setting. */
export async function loadHostKeys(paths: string[]): Promise<Buffer[]> {
  return Promise.all(
    paths.map(async (path, i) => {
      const setting = `sftp.host_keys[${i}]`;
      let key: Buffer;
      try {
        key = await readFile(path);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new ConfigError([`${setting}: ${path} ${code === 'ENOENT' ? 'does not exist' : 'is not readable'}`]);
      }
      const parsed = ssh2.utils.parseKey(key);
      if (parsed instanceof Error || !parsed.isPrivateKey()) throw new ConfigError([`${setting}: ${path} is not an OpenSSH private key (use \`wharf gen-hostkey --out FILE\`)`]);
      return key;
    }),
  );
}

/** Serves SFTP for one core. */
export class SftpServer {
  private listener: TcpServer | null = null;
  private readonly ssh: ssh2.Server;
  private readonly conns = new Set<Conn>();
  private sweeper: NodeJS.Timeout | null = null;
  private readonly proxy: ProxyGate;
  /** Clients named by a PROXY header, by the TCP peer (`address|port`) ssh2 reports, until ssh2 reports it. */
  private readonly named = new Map<string, Peer>();

  constructor(
    private readonly core: Core,
    hostKeys: Buffer[],
  ) {
    this.proxy = new ProxyGate(core.config.server, core.log);
    this.ssh = new ssh2.Server({ hostKeys, ident: 'Wharf' }, (client, info) => this.onClient(client, this.clientOf(info)));
  }

  /** The client's peer: the one its PROXY header named, else the TCP peer. */
  private clientOf(info: { ip: string; port: number }): Peer {
    const key = `${info.ip}|${info.port}`;
    const named = this.named.get(key);
    this.named.delete(key);
    return named ?? { address: normalizeAddress(info.ip), port: info.port, proxy: null };
  }

  /** The listening address, once `listen` has resolved. */
  get address(): AddressInfo {
    const a = this.listener?.address();
    if (!a || typeof a === 'string') throw new Error('sftp is not listening');
    return a;
  }

  /** The connections, as the admin console lists them (SFTP has no current directory: `/`). */
  liveSessions(): SessionInfo[] {
    const now = Date.now();
    const idleTimeout = this.core.config.server.idle_timeout;
    return [...this.conns].map((c) => {
      let transfer: LiveTransfer | null = null;
      for (const s of c.sessions) transfer ??= s.liveTransfer();
      const busy = [...c.sessions].some((s) => s.busy);
      const idle = !c.account ? (now - c.connectedAt) / 1000 : busy ? 0 : idleTimeout - (c.deadline - now) / 1000;
      return {
        id: c.ref.session,
        user: c.account?.name ?? null,
        anonymous: c.account?.anonymous ?? false,
        address: c.ref.remote,
        protocol: 'sftp' as const,
        secure: true,
        cwd: '/',
        connectedAt: c.connectedAt,
        idleSeconds: Math.max(0, Math.round(idle)),
        transfer,
      };
    });
  }

  /** Closes connection `id` (open uploads are discarded); false when there is none. */
  disconnect(id: number): boolean {
    for (const c of this.conns) {
      if (c.ref.session !== id) continue;
      c.client.end();
      return true;
    }
    return false;
  }

  /** Starts listening on `[sftp]`'s host and port. */
  async listen(): Promise<AddressInfo> {
    const cfg = this.core.config.sftp;
    if (!cfg) throw new Error('no [sftp] section');
    const server = createTcpServer({ noDelay: true }, (socket) => this.onSocket(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: cfg.host, port: cfg.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.core.log.error({ err }, 'sftp listener error'));
    this.listener = server;
    this.sweeper = setInterval(() => this.checkTimeouts(Date.now()), SWEEP_MS);
    this.sweeper.unref();
    return this.address;
  }

  /** Admits a TCP connection (bans and caps shared with FTP) and hands it to SSH. */
  private onSocket(socket: Socket): void {
    socket.on('error', () => undefined);
    if (this.core.closing) return void socket.destroy();
    if (!this.proxy.enabled) return this.admit(socket, { address: normalizeAddress(socket.remoteAddress), port: socket.remotePort ?? 0, proxy: null });
    // Behind a balancer: the PROXY header first; what follows it is the SSH stream.
    void this.proxy.accept(socket).then((peer) => {
      if (!peer || socket.destroyed) return;
      const key = `${socket.remoteAddress ?? ''}|${socket.remotePort ?? 0}`;
      this.named.set(key, peer);
      socket.once('close', () => this.named.delete(key));
      this.admit(socket, peer);
    });
  }

  /** Counts the connection from `peer` in the shared state and hands it to SSH, or closes it. */
  private admit(socket: Socket, peer: Peer): void {
    const ip = peer.address;
    socket.pause();
    this.core.state.admit(ip).then(
      (verdict) => {
        if (!verdict.ok) {
          this.core.events.emit('connection-refused', { remote: ip, reason: verdict.reason });
          return void socket.destroy();
        }
        if (socket.destroyed) return void this.core.state.release(ip);
        socket.once('close', () => void this.core.state.release(ip));
        socket.resume();
        this.ssh.injectSocket(socket);
      },
      () => socket.destroy(),
    );
  }

  private onClient(client: Connection, peer: Peer): void {
    const conn: Conn = {
      ref: { session: this.core.nextSessionId(), protocol: 'sftp', remote: peer.address },
      client,
      account: null,
      failures: 0,
      deadline: Date.now() + this.core.config.server.login_timeout * 1000,
      sessions: new Set(),
      channels: 0,
      ahead: new AheadBudget(),
      connectedAt: Date.now(),
    };
    this.conns.add(conn);
    this.core.events.emit('connect', { ...conn.ref, ...(peer.proxy ? { proxy: peer.proxy } : {}) });
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => void this.authenticate(conn, ctx));
    client.on('ready', () => this.onReady(conn));
    client.on('close', () => {
      this.conns.delete(conn);
      for (const s of conn.sessions) void s.end();
      if (conn.account) {
        conn.account.release();
        this.core.events.emit('logout', { ...conn.ref, user: conn.account.name, anonymous: conn.account.anonymous });
      }
      this.core.events.emit('disconnect', conn.ref);
    });
  }

  /** One authentication request: `none` lists the methods; passwords and keys go to the login service. */
  private async authenticate(conn: Conn, ctx: AuthContext): Promise<void> {
    if (conn.account) return ctx.reject();
    if (ctx.method !== 'password' && ctx.method !== 'publickey') return ctx.reject(['password', 'publickey']);
    // A public key without a signature only asks whether the key would do: no login yet.
    if (ctx.method === 'publickey' && !ctx.signature) {
      const proof = keyProof(ctx);
      return this.core.auth.keyAcceptable(ctx.username, proof) ? ctx.accept() : ctx.reject(['password', 'publickey']);
    }
    const req = ctx.method === 'password' ? { password: ctx.password } : { key: keyProof(ctx) };
    const result = await this.core.auth.login({ ...conn.ref, user: ctx.username, ...req });
    if (result.ok) {
      conn.account = result.account;
      return ctx.accept();
    }
    conn.failures++;
    if (result.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, result.delayMs));
    ctx.reject(['password', 'publickey']);
    if (result.fatal || conn.failures >= this.core.config.server.max_login_failures) conn.client.end();
  }

  private onReady(conn: Conn): void {
    const account = conn.account;
    if (!account) return void conn.client.end();
    conn.deadline = this.idleDeadline();
    const user = { ...conn.ref, user: account.name, anonymous: account.anonymous };
    conn.client.on('session', (accept, reject) => {
      if (conn.channels >= MAX_SESSIONS) return reject();
      conn.channels++;
      const session = accept();
      session.once('close', () => conn.channels--);
      session.on('sftp', (acceptSftp) => {
        const channel = acceptSftp();
        advertiseExtensions(channel, account.vfs.space !== undefined);
        const s = new SftpSession(channel, sftpContext(this.core, account, user, conn.ahead), () => (conn.deadline = this.idleDeadline()));
        conn.sessions.add(s);
        // The client's EOF ends the subsystem: answer with ours, which closes the channel.
        channel.on('end', () => channel.end());
        channel.on('close', () => conn.sessions.delete(s));
      });
      session.on('subsystem', (_accept, reject) => reject());
      session.on('exec', (_accept, reject) => reject());
      session.on('shell', (_accept, reject) => reject());
      session.on('pty', (_accept, reject) => reject?.());
    });
    conn.client.on('tcpip', (_accept, reject) => reject());
    conn.client.on('request', (_accept, reject) => reject?.());
  }

  private idleDeadline(): number {
    return Date.now() + this.core.config.server.idle_timeout * 1000;
  }

  /** Ends connections whose login or idle time has run out (a running transfer keeps a session alive). */
  private checkTimeouts(now: number): void {
    for (const conn of this.conns) {
      if (now < conn.deadline) continue;
      if (conn.account && [...conn.sessions].some((s) => s.busy)) {
        conn.deadline = this.idleDeadline();
        continue;
      }
      conn.client.end();
    }
  }

  /** Stops listening and ends every connection (open uploads are thrown away). */
  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.proxy.close();
    const listener = this.listener;
    const closed = new Promise<void>((resolve) => (listener ? listener.close(() => resolve()) : resolve()));
    const ended = [...this.conns].map(
      (c) =>
        new Promise<void>((resolve) => {
          c.client.once('close', () => resolve());
          c.client.end();
          setTimeout(() => {
            (c.client as unknown as { _sock?: Socket })._sock?.destroy();
            resolve();
          }, 2000).unref();
        }),
    );
    await Promise.all(ended);
    await closed;
  }
}
