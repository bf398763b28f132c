/**
 * Helpers for the FTPS interop tests: certificates (made by Wharf's own
 * `generateSelfSigned`, i.e. the openssl CLI), a server with `[tls]` on
 * port 0 (plus an ephemeral implicit port), lftp with FTPS settings, and a
 * small FTPS control client on Node's `tls` that can AUTH TLS, open
 * protected data connections in passive and active mode, and choose
 * whether to resume the control connection's TLS session.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import net from 'node:net';
import tls from 'node:tls';
import type { TestContext } from 'node:test';
import { generateSelfSigned, type CertPair } from '../../src/cli/genCert.js';
import { startServer, type TestServer } from './server.js';
import { run, tempDir, type RunOptions, type RunResult } from './clients.js';
import { ReplyReader, type RawReply } from './raw.js';

export type { CertPair };

/** A certificate pair in a temp dir removed after the test. */
export async function certPair(t: TestContext, name = 'cert'): Promise<CertPair & { dir: string }> {
  const { dir, cleanup } = await tempDir(`wharf-${name}-`);
  t.after(cleanup);
  const pair = await generateSelfSigned(dir);
  return { ...pair, dir };
}

/** SHA-256 fingerprint of a PEM certificate file, in Node's `AA:BB:...` form. */
export async function fingerprintOf(certPath: string): Promise<string> {
  return new X509Certificate(await fs.readFile(certPath)).fingerprint256;
}

/** A running FTPS test server and a scratch directory for client files. */
export interface FtpsServer {
  srv: TestServer;
  /** Control (explicit FTPS) port. */
  port: number;
  /** Implicit FTPS port. */
  implicitPort: number;
  /** Scratch directory for the client side. */
  tmp: string;
  cert: CertPair;
}

/**
 * Starts a server with `[tls]` (cert from {@link certPair}, implicit port 0)
 * merged with `tlsOverrides`; `overrides` go into the rest of the config.
 * Everything is closed after the test.
 */
export async function startFtps(t: TestContext, tlsOverrides: Record<string, unknown> = {}, overrides: Record<string, unknown> = {}): Promise<FtpsServer> {
  const cert = await certPair(t);
  const srv = await startServer({ ...overrides, tls: { cert: cert.cert, key: cert.key, implicit_port: 0, ...tlsOverrides } });
  t.after(() => srv.close());
  const implicit = srv.server.ftpServer.implicitAddress;
  if (!implicit) throw new Error('the server has no implicit FTPS listener');
  const { dir, cleanup } = await tempDir('wharf-ftps-');
  t.after(cleanup);
  return { srv, port: srv.port, implicitPort: implicit.port, tmp: dir, cert };
}

/** Hex sha256 of a file. */
export async function fileSha256(file: string): Promise<string> {
  return createHash('sha256')
    .update(await fs.readFile(file))
    .digest('hex');
}

/**
 * Runs an lftp script over FTPS: explicit (`ftp://` with ssl-force) or
 * implicit (`ftps://`), protected data, certificate not verified
 * (self-signed), passive unless `passive: false`. lftp's `-d` trace
 * (`---> CMD` / `<--- reply`) goes to stderr.
 */
export function lftpTls(port: number, user: string, script: string, opts: RunOptions & { passive?: boolean; implicit?: boolean } = {}): Promise<RunResult> {
  const prelude = [
    'set net:max-retries 1',
    'set net:reconnect-interval-base 1',
    'set net:timeout 10',
    'set cmd:fail-exit yes',
    'set xfer:clobber yes',
    `set ftp:passive-mode ${opts.passive === false ? 'off' : 'on'}`,
    'set ftp:port-range 0',
    'set ftp:ssl-force true',
    'set ftp:ssl-protect-data true',
    'set ftp:ssl-protect-list true',
    'set ssl:verify-certificate no',
    `open -u ${user} ${opts.implicit ? 'ftps' : 'ftp'}://127.0.0.1:${port}`,
  ].join('; ');
  return run('lftp', ['-d', '-c', `${prelude}; ${script}`], { timeoutMs: 30_000, ...opts });
}

/** One reply as read off the wire. */
/** A reply on an FTPS control connection (the same shape as a plain one). */
export type TlsReply = RawReply;

/** Rejects after `ms` with `what` unless `p` settles first. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

const CLIENT_TLS: tls.ConnectionOptions = { rejectUnauthorized: false };

/**
 * An FTP control connection that can be (or become) TLS. Replies are read
 * in order; `session` is the latest TLS session seen on the control
 * connection (TLS 1.3 tickets arrive after the handshake).
 */
export class FtpsControl {
  private readonly reader = new ReplyReader();
  private readonly onData = (d: Buffer) => this.reader.push(d.toString('utf8'));
  session: Buffer | undefined;
  /** Data sockets and listeners opened through this control, closed by `close`. */
  private readonly extras: { destroy(): void }[] = [];

  private constructor(public socket: net.Socket) {
    this.attach(socket);
  }

  private attach(socket: net.Socket): void {
    socket.on('data', this.onData);
    socket.on('close', () => {
      if (socket !== this.socket) return;
      this.reader.end();
    });
    socket.on('error', () => undefined);
  }

  /** Connects in clear (explicit FTPS starts with AUTH TLS). */
  static async plain(port: number): Promise<FtpsControl> {
    const socket = net.connect({ port, host: '127.0.0.1' });
    await within(once(socket, 'connect'), 10_000, 'connect');
    return new FtpsControl(socket);
  }

  /** Connects to an implicit FTPS port: TLS from the first byte. */
  static async implicit(port: number, options: tls.ConnectionOptions = {}): Promise<FtpsControl> {
    const socket = tls.connect({ port, host: '127.0.0.1', ...CLIENT_TLS, ...options });
    const c = new FtpsControl(socket);
    socket.on('session', (s: Buffer) => (c.session = s));
    await within(once(socket, 'secureConnect'), 10_000, 'implicit TLS handshake');
    return c;
  }

  /** The control socket as TLS (after AUTH TLS or on the implicit port). */
  get tlsSocket(): tls.TLSSocket {
    if (!(this.socket instanceof tls.TLSSocket)) throw new Error('control connection is not TLS');
    return this.socket;
  }

  /** The next reply, or null once the connection has closed. */
  read(timeoutMs = 10_000): Promise<TlsReply | null> {
    return this.reader.read(timeoutMs);
  }

  /** Sends a line. */
  send(line: string): void {
    this.socket.write(line + '\r\n');
  }

  /** Sends a command and reads its reply. */
  async cmd(line: string): Promise<TlsReply> {
    this.send(line);
    const r = await this.read();
    if (!r) throw new Error(`connection closed after ${line.split(' ')[0]}`);
    return r;
  }

  /** Reads the 220 greeting. */
  async greeting(): Promise<void> {
    const g = await this.read();
    if (g?.code !== 220) throw new Error(`greeting: ${g?.raw}`);
  }

  /** AUTH TLS (expects 234) and the client side of the handshake. */
  async authTls(verb = 'AUTH TLS'): Promise<void> {
    const r = await this.cmd(verb);
    if (r.code !== 234) throw new Error(`${verb}: ${r.raw}`);
    const raw = this.socket;
    raw.off('data', this.onData);
    const secure = tls.connect({ socket: raw, ...CLIENT_TLS });
    secure.on('session', (s: Buffer) => (this.session = s));
    this.socket = secure;
    this.attach(secure);
    await within(once(secure, 'secureConnect'), 10_000, 'TLS handshake after AUTH TLS');
  }

  /** USER/PASS, expecting 331 then 230, then TYPE I (byte-exact transfers). */
  async login(user: string, pass: string): Promise<void> {
    const u = await this.cmd(`USER ${user}`);
    if (u.code !== 331) throw new Error(`USER: ${u.raw}`);
    const p = await this.cmd(`PASS ${pass}`);
    if (p.code !== 230) throw new Error(`PASS: ${p.raw}`);
    const ty = await this.cmd('TYPE I');
    if (ty.code !== 200) throw new Error(`TYPE I: ${ty.raw}`);
  }

  /** PBSZ 0 + PROT P. */
  async protP(): Promise<void> {
    const b = await this.cmd('PBSZ 0');
    if (b.code !== 200) throw new Error(`PBSZ: ${b.raw}`);
    const p = await this.cmd('PROT P');
    if (p.code !== 200) throw new Error(`PROT: ${p.raw}`);
  }

  /** EPSV and a TCP connection to the data port. */
  async passiveData(): Promise<net.Socket> {
    const r = await this.cmd('EPSV');
    const m = /\(\|\|\|(\d+)\|\)/.exec(r.raw);
    if (r.code !== 229 || !m) throw new Error(`EPSV: ${r.raw}`);
    const s = net.connect({ port: Number(m[1]), host: '127.0.0.1' });
    s.on('error', () => undefined);
    this.extras.push(s);
    await within(once(s, 'connect'), 10_000, 'data connect');
    return s;
  }

  /**
   * Listens on an ephemeral loopback port and sends EPRT for it; the
   * returned promise gives the socket the server connects from.
   */
  async activeData(): Promise<() => Promise<net.Socket>> {
    const listener = net.createServer();
    this.extras.push({ destroy: () => listener.close() });
    const accepted = new Promise<net.Socket>((resolve) =>
      listener.once('connection', (s) => {
        s.on('error', () => undefined);
        this.extras.push(s);
        listener.close();
        resolve(s);
      }),
    );
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const port = (listener.address() as net.AddressInfo).port;
    const r = await this.cmd(`EPRT |1|127.0.0.1|${port}|`);
    if (r.code !== 200) throw new Error(`EPRT: ${r.raw}`);
    return () => within(accepted, 10_000, 'the server connecting to the active data port');
  }

  /**
   * The client side of TLS on a data connection; resumes the control
   * connection's session unless `reuse` is false.
   */
  secureData(raw: net.Socket, reuse = true): tls.TLSSocket {
    const session = reuse ? (this.session ?? this.tlsSocket.getSession()) : undefined;
    const s = tls.connect({ socket: raw, ...CLIENT_TLS, session });
    s.on('error', () => undefined);
    this.extras.push(s);
    return s;
  }

  /** True once the server has closed the connection. */
  get closed(): boolean {
    return this.reader.closed;
  }

  /** Resolves once the control connection is closed. */
  async waitClosed(timeoutMs = 10_000): Promise<void> {
    if (this.reader.closed) return;
    await within(once(this.socket, 'close'), timeoutMs, 'control connection to close');
  }

  close(): void {
    for (const e of this.extras) e.destroy();
    this.socket.destroy();
  }
}

/** Reads a stream to its end (bounded). */
export async function readAllBounded(s: NodeJS.ReadableStream, ms = 20_000): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await within(
    (async () => {
      for await (const c of s) chunks.push(c as Buffer);
    })(),
    ms,
    'reading a data connection to its end',
  );
  return Buffer.concat(chunks);
}
