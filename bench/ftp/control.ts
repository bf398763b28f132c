/**
 * A minimal raw FTP control connection for the load generator: it parses
 * replies incrementally (single and multi-line), sends one command per
 * write, waits for each reply with a timeout, and can upgrade itself to TLS
 * (AUTH TLS). Many of these live in one process, so an idle one holds no
 * timer and allocates nothing.
 */
import net from 'node:net';
import tls from 'node:tls';

/** One FTP reply: code and the text of its lines. */
export interface Reply {
  code: number;
  text: string;
}

/** A reply that was not the expected kind, or a broken connection. */
export class FtpError extends Error {
  constructor(
    message: string,
    readonly code = 0,
  ) {
    super(message);
  }
}

type Waiter = { resolve: (r: Reply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

/** Options of {@link Control.connect}. */
export interface ControlOptions {
  host: string;
  port: number;
  /** Timeout for connecting and for each reply, in ms. */
  timeoutMs: number;
}

/** A control connection. */
export class Control {
  private socket: net.Socket;
  private partial = '';
  /** Lines of a multi-line reply being read, with its code. */
  private multi: { code: number; lines: string[] } | null = null;
  private readonly replies: Reply[] = [];
  private readonly waiters: Waiter[] = [];
  private failure: Error | null = null;
  /** The latest TLS session of the control connection, for data connections to resume. */
  tlsSession: Buffer | undefined;
  /** True once AUTH TLS succeeded. */
  secure = false;
  /** Data connections start TLS before the transfer command (see ServerSpec.earlyDataTls). */
  earlyDataTls = false;

  private constructor(
    socket: net.Socket,
    readonly opts: ControlOptions,
  ) {
    this.socket = socket;
    this.attach(socket);
  }

  /** Connects and reads the greeting (which must be 220). */
  static async connect(opts: ControlOptions): Promise<Control> {
    const socket = net.connect({ host: opts.host, port: opts.port, noDelay: true });
    const c = new Control(socket, opts);
    const greeting = await c.next();
    if (greeting.code !== 220) {
      c.destroy();
      throw new FtpError(`greeting ${greeting.code} ${greeting.text}`, greeting.code);
    }
    return c;
  }

  /** The server address, for data connections. */
  get host(): string {
    return this.opts.host;
  }

  private attach(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => this.onData(chunk.toString('latin1')));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new FtpError('control connection closed')));
  }

  private onData(chunk: string): void {
    this.partial += chunk;
    for (let guard = 0; guard < 100_000; guard++) {
      const nl = this.partial.indexOf('\n');
      if (nl < 0) break;
      const line = this.partial.slice(0, nl).replace(/\r$/, '');
      this.partial = this.partial.slice(nl + 1);
      this.onLine(line);
    }
  }

  private onLine(line: string): void {
    const code = /^\d{3}/.test(line) ? Number(line.slice(0, 3)) : 0;
    if (this.multi) {
      this.multi.lines.push(line);
      if (code === this.multi.code && line[3] === ' ') {
        const done = this.multi;
        this.multi = null;
        this.push({ code: done.code, text: done.lines.join('\n') });
      }
      return;
    }
    if (code === 0) return;
    if (line[3] === '-') this.multi = { code, lines: [line] };
    else this.push({ code, text: line });
  }

  private push(r: Reply): void {
    const w = this.waiters.shift();
    if (w) {
      clearTimeout(w.timer);
      w.resolve(r);
    } else this.replies.push(r);
  }

  private fail(err: Error): void {
    if (!this.failure) this.failure = err;
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(this.failure);
    }
  }

  /** The next reply (already received or still to come), with a timeout. */
  next(timeoutMs = this.opts.timeoutMs): Promise<Reply> {
    const ready = this.replies.shift();
    if (ready) return Promise.resolve(ready);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.findIndex((w) => w.timer === timer);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new FtpError(`no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push({ resolve, reject, timer });
    });
  }

  /** Sends one command line. */
  send(line: string): void {
    this.socket.write(`${line}\r\n`);
  }

  /** Sends a command and returns its reply. */
  async cmd(line: string): Promise<Reply> {
    this.send(line);
    return this.next();
  }

  /** Sends a command; throws unless the reply code starts with `expect`. */
  async expect(line: string, expect: number): Promise<Reply> {
    const r = await this.cmd(line);
    if (Math.floor(r.code / 100) !== expect && r.code !== expect) {
      throw new FtpError(`${line.split(' ')[0]}: ${r.code} ${r.text}`, r.code);
    }
    return r;
  }

  /** Logs in (USER/PASS); anonymous by default. */
  async login(user = 'anonymous', pass = 'bench@example.com'): Promise<void> {
    const r = await this.cmd(`USER ${user}`);
    if (r.code === 230) return;
    if (r.code !== 331) throw new FtpError(`USER: ${r.code} ${r.text}`, r.code);
    await this.expect(`PASS ${pass}`, 2);
  }

  /** AUTH TLS, then the TLS handshake on the same socket; keeps the session for data connections. */
  async startTls(): Promise<void> {
    await this.expect('AUTH TLS', 234);
    const raw = this.socket;
    raw.removeAllListeners('data');
    raw.removeAllListeners('error');
    raw.removeAllListeners('close');
    const secure = tls.connect({ socket: raw, rejectUnauthorized: false });
    secure.on('session', (s: Buffer) => {
      this.tlsSession = s;
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new FtpError('TLS handshake timed out')), this.opts.timeoutMs);
      secure.once('secureConnect', () => {
        clearTimeout(timer);
        resolve();
      });
      secure.once('error', (e: Error) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    this.tlsSession ??= secure.getSession();
    this.socket = secure;
    this.attach(secure);
    this.secure = true;
  }

  /** AUTH TLS + login + PBSZ 0 + PROT P, or a plain login. */
  async open(secure: boolean, user?: string, pass?: string): Promise<void> {
    if (secure) await this.startTls();
    await this.login(user, pass);
    if (secure) {
      await this.expect('PBSZ 0', 2);
      await this.expect('PROT P', 2);
    }
  }

  /** QUIT and wait for the reply and the close (bounded). */
  async quit(): Promise<void> {
    try {
      await this.cmd('QUIT');
    } catch {
      // Already closed: fine.
    }
    this.socket.end();
    await this.closed(2000);
  }

  /** Resolves when the socket has closed, or destroys it after `ms`. */
  closed(ms: number): Promise<void> {
    if (this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.socket.destroy();
        resolve();
      }, ms);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Drops the connection at once. */
  destroy(): void {
    this.socket.destroy();
  }
}
