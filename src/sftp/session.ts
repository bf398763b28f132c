/**
 * One SFTP subsystem channel: the table of requests and their handlers,
 * the open handles, and the transfer events. Requests on one handle run in
 * the order they arrived; a handler's error becomes a status reply (never
 * a crash, never a host path). Unknown requests get OP_UNSUPPORTED.
 */
import type { Attributes, SFTPWrapper } from 'ssh2';
import type { TransferStartEvent } from '../events/events.js';
import type { LiveTransfer } from '../core/sessions.js';
import { denied, SftpError, STATUS, toAttrs, toNames, toStatus } from './attrs.js';
import type { SftpContext } from './context.js';
import type { FileReader, FileWriter } from './files.js';
import { openDir, openFile, readDir, type Handle } from './open.js';
import * as requests from './requests.js';
import { extended } from './extended.js';

/** Open handles per channel before OPEN is refused. */
const MAX_HANDLES = 256;

interface Open {
  handle: Handle;
  /** Requests on this handle, one after another. */
  queue: Promise<unknown>;
  /** The transfer this handle is, for file handles. */
  transfer?: { start: TransferStartEvent; began: number; paced?: number };
}

/** Serves one SFTP channel for a logged-in account. */
export class SftpSession {
  private readonly handles = new Map<number, Open>();
  /** Wakes the requests waiting for the rate limit (the channel closed). */
  private readonly sleepers = new Set<() => void>();
  private nextHandle = 1;
  private closed = false;

  constructor(
    private readonly sftp: SFTPWrapper,
    private readonly ctx: SftpContext,
    /** Called on every request (the idle timer). */
    private readonly touch: () => void,
  ) {
    this.bind();
    sftp.on('close', () => void this.end());
    sftp.on('error', () => void this.end());
  }

  /** Requests the server is still working on. */
  private inFlight = 0;

  /**
   * True while a request is being served (a long WRITE, or a CLOSE that
   * commits). An open handle alone is not a transfer: a client that holds
   * a file open and sends nothing is idle like any other.
   */
  get busy(): boolean {
    return this.inFlight > 0;
  }

  /** The first file transfer open on this channel, for the admin console. */
  liveTransfer(): LiveTransfer | null {
    for (const o of this.handles.values()) {
      if (!o.transfer || o.handle.kind === 'dir') continue;
      const { start } = o.transfer;
      const bytes = o.handle.kind === 'read' ? o.handle.file.bytes : o.handle.file.size - start.offset;
      const size = o.handle.kind === 'read' ? o.handle.file.size : null;
      return { path: start.path, direction: start.direction, bytes, size };
    }
    return null;
  }

  private bind(): void {
    const s = this.sftp;
    this.on('OPEN', async (id, filename: string, flags: number) => this.sendHandle(id, await openFile(this.ctx, filename, flags)));
    this.on('OPENDIR', async (id, path: string) => this.sendHandle(id, await openDir(this.ctx, path)));
    this.on('READ', (id, h: Buffer, offset: number, length: number) => this.onHandle(id, h, 'read', (f, o) => this.read(id, f, o, offset, length)));
    this.on('WRITE', (id, h: Buffer, offset: number, data: Buffer) =>
      this.onHandle(id, h, 'write', async (f, o) => {
        await f.write(offset, data);
        await this.pace(o, data.length);
        this.ok(id);
      }),
    );
    this.on('READDIR', (id, h: Buffer) => this.onDir(id, h));
    this.on('FSTAT', (id, h: Buffer) => this.fstat(id, h));
    this.on('FSETSTAT', (id, h: Buffer, attrs: Attributes) => this.fsetstat(id, h, attrs));
    this.on('CLOSE', (id, h: Buffer) => this.close(id, h));
    this.on('STAT', async (id, path: string) => s.attrs(id, await requests.stat(this.ctx, path)));
    this.on('LSTAT', async (id, path: string) => s.attrs(id, await requests.stat(this.ctx, path)));
    this.on('SETSTAT', async (id, path: string, attrs: Attributes) => this.ok(id, await requests.setstat(this.ctx, path, attrs)));
    this.on('REMOVE', async (id, path: string) => this.ok(id, await requests.remove(this.ctx, path)));
    this.on('MKDIR', async (id, path: string) => this.ok(id, await requests.mkdir(this.ctx, path)));
    this.on('RMDIR', async (id, path: string) => this.ok(id, await requests.rmdir(this.ctx, path)));
    this.on('RENAME', async (id, from: string, to: string) => this.ok(id, await requests.rename(this.ctx, from, to, false)));
    this.on('REALPATH', (id, path: string) => s.name(id, [{ filename: requests.realpath(path), longname: '', attrs: {} as Attributes }]));
    this.on('READLINK', () => Promise.reject(new SftpError(STATUS.OP_UNSUPPORTED, 'links are not supported')));
    this.on('SYMLINK', () => Promise.reject(denied('links are not allowed')));
    this.on('EXTENDED', (id, name: string, data: Buffer) => this.extended(id, name, data));
  }

  /** Registers a request handler that answers its own errors with a status. */
  private on(event: string, fn: (id: number, ...args: never[]) => unknown): void {
    this.sftp.on(
      event as 'OPEN',
      ((id: number, ...args: never[]) => {
        this.touch();
        this.inFlight++;
        Promise.resolve()
          .then(() => fn(id, ...args))
          .catch((err: unknown) => this.fail(id, err))
          .finally(() => {
            this.inFlight--;
            this.touch();
          });
      }) as never,
    );
  }

  private fail(id: number, err: unknown): void {
    if (this.closed) return;
    const { code, message } = toStatus(err);
    if (!(err instanceof SftpError)) this.ctx.core.log.debug({ err, session: this.ctx.ref.session }, 'sftp request failed');
    this.sftp.status(id, code, message);
  }

  private ok(id: number, _done?: unknown): void {
    if (!this.closed) this.sftp.status(id, STATUS.OK);
  }

  private sendHandle(id: number, handle: Handle): void {
    if (this.closed || this.handles.size >= MAX_HANDLES) {
      void release(handle);
      if (!this.closed) this.sftp.status(id, STATUS.FAILURE, 'too many open handles');
      return;
    }
    const n = this.nextHandle++;
    const open: Open = { handle, queue: Promise.resolve() };
    if (handle.kind !== 'dir') open.transfer = { start: this.transferStart(handle), began: performance.now() };
    this.handles.set(n, open);
    const buf = Buffer.alloc(4);
    buf.writeUInt32BE(n);
    this.sftp.handle(id, buf);
  }

  private transferStart(handle: Exclude<Handle, { kind: 'dir' }>): TransferStartEvent {
    const start: TransferStartEvent = {
      ...this.ctx.ref,
      direction: handle.kind === 'read' ? 'download' : 'upload',
      path: handle.file.path,
      offset: handle.kind === 'write' ? handle.file.size : 0,
    };
    this.ctx.core.events.emit('transfer-start', start);
    return start;
  }

  private find(h: Buffer): Open {
    const open = h.length === 4 ? this.handles.get(h.readUInt32BE(0)) : undefined;
    if (!open) throw new SftpError(STATUS.FAILURE, 'invalid handle');
    return open;
  }

  /** Runs `fn` on a file handle of the given kind, after the requests queued on it. */
  private onHandle<K extends 'read' | 'write'>(
    id: number,
    h: Buffer,
    kind: K,
    fn: (f: K extends 'read' ? FileReader : FileWriter, open: Open) => Promise<unknown>,
  ): Promise<unknown> {
    const open = this.find(h);
    if (open.handle.kind !== kind) throw new SftpError(STATUS.FAILURE, `handle not open for ${kind === 'read' ? 'reading' : 'writing'}`);
    const file = open.handle.file as K extends 'read' ? FileReader : FileWriter;
    const run = open.queue.then(() => fn(file, open));
    open.queue = run.catch(() => undefined);
    return run;
  }

  private async read(id: number, file: FileReader, open: Open, offset: number, length: number): Promise<void> {
    const data = await file.read(offset, Math.min(length, 256 * 1024));
    if (data) await this.pace(open, data.length);
    if (this.closed) return;
    if (data === null) this.sftp.status(id, STATUS.EOF);
    else this.sftp.data(id, data);
  }

  /** Holds a transfer to the account's `max_rate` (bytes/s): the reply waits until the bytes are due. */
  private async pace(open: Open, n: number): Promise<void> {
    const rate = this.ctx.account.maxRate;
    if (rate <= 0 || !open.transfer) return;
    open.transfer.paced = (open.transfer.paced ?? 0) + n;
    const due = (open.transfer.paced / rate) * 1000 - (performance.now() - open.transfer.began);
    if (due <= 0 || this.closed) return;
    // The wait ends early when the channel closes, so no timer outlives the session.
    await new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, Math.min(due, 10_000));
      this.sleepers.add(wake);
    });
  }

  private async onDir(id: number, h: Buffer): Promise<void> {
    const open = this.find(h);
    if (open.handle.kind !== 'dir') throw new SftpError(STATUS.FAILURE, 'not a directory handle');
    const dir = open.handle;
    const run = open.queue.then(() => readDir(dir));
    open.queue = run.catch(() => undefined);
    const entries = await run;
    if (this.closed) return;
    if (entries === null) this.sftp.status(id, STATUS.EOF);
    else this.sftp.name(id, toNames(entries));
  }

  private async fstat(id: number, h: Buffer): Promise<void> {
    const { handle } = this.find(h);
    if (handle.kind === 'dir') return this.sftp.attrs(id, toAttrs(await this.ctx.account.vfs.stat(handle.path)));
    if (handle.kind === 'read' && handle.file.stat) return this.sftp.attrs(id, toAttrs(handle.file.stat));
    if (handle.kind === 'write') return this.sftp.attrs(id, { mode: 0o100644, uid: 0, gid: 0, size: handle.file.size, atime: 0, mtime: 0 });
    this.sftp.attrs(id, toAttrs(await this.ctx.account.vfs.stat(handle.file.path)));
  }

  /** FSETSTAT: on an upload, the time is set once the file is in place; on others, as SETSTAT. */
  private async fsetstat(id: number, h: Buffer, attrs: Attributes): Promise<void> {
    const { handle } = this.find(h);
    if (handle.kind === 'write') {
      if (attrs.mtime !== undefined) handle.file.mtime = new Date(Number(attrs.mtime) * 1000);
      return this.ok(id);
    }
    this.ok(id, await requests.setstat(this.ctx, handle.kind === 'dir' ? handle.path : handle.file.path, attrs));
  }

  private async close(id: number, h: Buffer): Promise<void> {
    const n = h.length === 4 ? h.readUInt32BE(0) : -1;
    const open = this.find(h);
    this.handles.delete(n);
    await open.queue;
    let ok = true;
    try {
      await this.finishHandle(open.handle);
    } catch (err) {
      ok = false;
      throw err;
    } finally {
      this.transferEnd(open, ok);
    }
    this.ok(id);
  }

  private async finishHandle(handle: Handle): Promise<void> {
    if (handle.kind === 'read') return handle.file.close();
    if (handle.kind === 'dir') return void (await handle.batches.return?.());
    await handle.file.finish();
    if (handle.file.mtime) await requests.setMtime(this.ctx, handle.file.path, handle.file.mtime).catch(() => undefined);
  }

  private transferEnd(open: Open, ok: boolean): void {
    if (!open.transfer || open.handle.kind === 'dir') return;
    const { start, began } = open.transfer;
    const file = open.handle.file;
    const bytes = open.handle.kind === 'read' ? (file as FileReader).bytes : (file as FileWriter).size - start.offset;
    const seconds = (performance.now() - began) / 1000;
    this.ctx.core.events.emit('transfer', { ...start, bytes, seconds, ok, mode: 'binary', ident: this.ctx.account.ident });
  }

  private async extended(id: number, name: string, data: Buffer): Promise<void> {
    if (!(await extended(this.ctx, this.sftp, id, name, data))) this.ok(id);
  }

  /** The channel ended: uploads still open are thrown away, files released. */
  async end(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const wake of [...this.sleepers]) wake();
    const open = [...this.handles.values()];
    this.handles.clear();
    for (const o of open) {
      await release(o.handle);
      this.transferEnd(o, false);
    }
  }
}

/** Releases a handle without completing it. */
async function release(handle: Handle): Promise<void> {
  if (handle.kind === 'read') handle.file.close();
  else if (handle.kind === 'write') await handle.file.abort().catch(() => undefined);
  else await handle.batches.return?.();
}
