/**
 * A raw control connection for protocol tests: send lines, read whole
 * replies (multi-line aware), open data connections by hand.
 */
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';

/** One reply as read off the wire. */
export interface RawReply {
  code: number;
  /** The text of every line, without codes and line endings. */
  lines: string[];
  /** The exact text received. */
  raw: string;
}

/**
 * Splits received control text into whole replies (multi-line aware) and
 * hands them out in order; shared by the plain and the TLS test sessions.
 */
export class ReplyReader {
  private buffer = '';
  private readonly replies: RawReply[] = [];
  private waiters: ((r: RawReply | null) => void)[] = [];
  private ended = false;

  /** True once `end` was called. */
  get closed(): boolean {
    return this.ended;
  }

  /** Adds received text. */
  push(text: string): void {
    this.buffer += text;
    for (;;) {
      const m = /^(\d{3})([ -])/.exec(this.buffer);
      if (!m) {
        const nl = this.buffer.indexOf('\r\n');
        if (nl === -1) return;
        this.buffer = this.buffer.slice(nl + 2); // garbage line
        continue;
      }
      const code = m[1] as string;
      let end: number;
      if (m[2] === ' ') {
        end = this.buffer.indexOf('\r\n');
        if (end === -1) return;
      } else {
        const found = new RegExp(`\\r\\n${code} [^\\r\\n]*\\r\\n`).exec(this.buffer);
        if (!found) return;
        end = found.index + found[0].length - 2;
      }
      const raw = this.buffer.slice(0, end + 2);
      this.buffer = this.buffer.slice(end + 2);
      const lines = raw
        .slice(0, -2)
        .split('\r\n')
        .map((l, i, all) => (i === 0 || i === all.length - 1 ? l.slice(4) : l));
      const r: RawReply = { code: Number(code), lines, raw };
      const w = this.waiters.shift();
      if (w) w(r);
      else this.replies.push(r);
    }
  }

  /** The connection closed: pending and later reads resolve null. */
  end(): void {
    this.ended = true;
    for (const w of this.waiters.splice(0)) w(null);
  }

  /** The next reply; rejects after `timeoutMs`, resolves null once closed. */
  read(timeoutMs: number): Promise<RawReply | null> {
    const r = this.replies.shift();
    if (r) return Promise.resolve(r);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error('timed out waiting for a reply'));
      }, timeoutMs);
      const waiter = (x: RawReply | null) => {
        clearTimeout(timer);
        resolve(x);
      };
      this.waiters.push(waiter);
    });
  }
}

/** A raw FTP control connection. */
export class RawSession {
  private readonly reader = new ReplyReader();
  /** Default time to wait for a reply. */
  timeoutMs = 5000;

  private constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => this.reader.push(d));
    socket.on('close', () => this.reader.end());
    socket.on('error', () => undefined);
  }

  /** Connects and returns the session (the greeting is left to read); `preamble` (a PROXY header) is sent first. */
  static async open(port: number, host = '127.0.0.1', localAddress?: string, preamble?: Buffer): Promise<RawSession> {
    const socket = connect({ port, host, localAddress });
    await once(socket, 'connect');
    if (preamble) socket.write(preamble);
    return new RawSession(socket);
  }

  /** The next reply; rejects after `timeoutMs`, resolves null if the connection closed. */
  read(timeoutMs = this.timeoutMs): Promise<RawReply | null> {
    return this.reader.read(timeoutMs);
  }

  /** Sends raw bytes. */
  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Sends a command and reads its reply. */
  async cmd(line: string): Promise<RawReply> {
    this.socket.write(line + '\r\n');
    const r = await this.read();
    if (!r) throw new Error(`connection closed after ${line.split(' ')[0]}`);
    return r;
  }

  /** Reads the greeting and logs in. */
  async login(user = 'anonymous', pass = 'test@example.com'): Promise<void> {
    const greeting = await this.read();
    if (greeting?.code !== 220) throw new Error(`greeting: ${greeting?.raw}`);
    const u = await this.cmd(`USER ${user}`);
    if (u.code !== 331) throw new Error(`USER: ${u.raw}`);
    const p = await this.cmd(`PASS ${pass}`);
    if (p.code !== 230) throw new Error(`PASS: ${p.raw}`);
  }

  /** EPSV, then connects to the data port; returns the data socket. */
  async passive(): Promise<Socket> {
    const r = await this.cmd('EPSV');
    const m = /\(\|\|\|(\d+)\|\)/.exec(r.raw);
    if (r.code !== 229 || !m) throw new Error(`EPSV: ${r.raw}`);
    const s = connect({ port: Number(m[1]), host: '127.0.0.1' });
    await once(s, 'connect');
    return s;
  }

  /** True once the server has closed the connection. */
  get closed(): boolean {
    return this.reader.closed;
  }

  /** Resolves once the connection is closed. */
  async waitClosed(timeoutMs = 5000): Promise<void> {
    if (this.reader.closed) return;
    await Promise.race([once(this.socket, 'close'), new Promise((_, reject) => setTimeout(() => reject(new Error('connection not closed')), timeoutMs).unref())]);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Reads a data socket to its end. */
export async function readAll(s: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
