/**
 * The S3 backend: a root at `s3://BUCKET/PREFIX` served like a directory.
 * Files are objects under the prefix, directories are key prefixes (with
 * a zero-byte `dir/` marker when made by MKD), listings are paginated
 * ListObjectsV2 pages, downloads are streamed (ranged) GETs, uploads are
 * multipart uploads visible only once complete, renames are copies inside
 * S3. Every failure is a VfsError whose text names no endpoint, bucket,
 * key or credential. See README "Object storage" for what differs from a
 * disk.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type HeadObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { VfsError } from '../errors.js';
import type { ReadHandle, Upload, Vfs, VfsCapabilities, VfsStat, WriteMode } from '../types.js';
import { guard, makeClient, type S3Settings } from './client.js';
import { DEFAULT_TUNING, metaMtime, MTIME_META, type S3Target, type S3Tuning } from './context.js';
import { copyObject } from './copy.js';
import { dirExists, head, listDir, prefixExists, statPath } from './listing.js';
import { KeySpace, MTIMES_NAME, nameOf, parentPath, parseS3Url, segmentsOf, type S3Location } from './location.js';
import { bareEtag, MtimeIndex, seconds } from './mtimes.js';
import { openRead } from './read.js';
import { recoverUploads } from './registry.js';
import { deleteKey, renamePath } from './rename.js';
import { S3Upload, writeIfAbsent } from './upload.js';

/** The body of a directory marker. */
const EMPTY = new Uint8Array(0);

/** How many bytes of the current object an upload keeps (append: all; offset: up to the offset). */
function keptBytes(mode: WriteMode, size: number): number {
  if (mode.kind === 'append') return size;
  if (mode.kind !== 'offset') return 0;
  if (!(Number.isSafeInteger(mode.offset) && mode.offset >= 0) || mode.offset > size) throw new VfsError('bad-offset', 'offset beyond the end of the file');
  return mode.offset;
}

/** Options of an S3Vfs. */
export interface S3VfsOptions {
  /** How to reach the store (ignored when `client` is given). */
  settings?: S3Settings;
  /** A client to share between roots; the caller then destroys it (close() does not). */
  client?: S3Client;
  /** Part sizes and bounds (see S3Tuning). */
  tuning?: Partial<S3Tuning>;
  /** Marks this machine in the registry of unfinished uploads (default `s3`). */
  hostTag?: string;
}

/** A Vfs on an S3 bucket and prefix. */
export class S3Vfs implements Vfs {
  readonly capabilities: VfsCapabilities = Object.freeze({ setMtime: true, append: true, resumeUpload: true, symlinks: false });
  private readonly t: S3Target;
  private readonly index: MtimeIndex;
  private readonly ownsClient: boolean;
  /** Whether the server honours If-None-Match on writes (turned off after one 501). */
  private readonly conditional = { supported: true };

  constructor(location: S3Location, options: S3VfsOptions = {}) {
    this.ownsClient = options.client === undefined;
    const tuning = { ...DEFAULT_TUNING, ...options.tuning };
    if (!(tuning.partSize >= 1024 && tuning.queueSize >= 1 && tuning.copyPartSize >= tuning.minCopyPart)) throw new VfsError('io', 'invalid S3 tuning');
    this.t = { client: options.client ?? makeClient(options.settings ?? {}), keys: new KeySpace(location), tuning, hostTag: options.hostTag ?? 's3' };
    this.index = new MtimeIndex(this.t);
  }

  /** A backend for an `s3://BUCKET/PREFIX` URL (a malformed URL throws). */
  static fromUrl(url: string, options: S3VfsOptions = {}): S3Vfs {
    const location = parseS3Url(url);
    if (typeof location === 'string') throw new VfsError('io', 'invalid s3:// URL');
    return new S3Vfs(location, options);
  }

  /** The bucket and prefix served. */
  get location(): S3Location {
    return this.t.keys.location;
  }

  stat(path: string): Promise<VfsStat> {
    return statPath(this.t, path);
  }

  list(path: string): AsyncIterable<VfsStat[]> {
    return listDir(this.t, this.index, path);
  }

  read(path: string, start: number): Promise<ReadHandle> {
    return openRead(this.t, path, start);
  }

  async write(path: string, mode: WriteMode): Promise<Upload> {
    const key = this.t.keys.fileKey(path);
    const existing = await this.checkWriteTarget(path, key, mode);
    const keep = keptBytes(mode, existing?.ContentLength ?? 0);
    const etag = existing?.ETag ?? '';
    const copyPrefix = keep >= this.t.tuning.minCopyPart ? { size: keep, etag } : undefined;
    const upload = new S3Upload(this.t, { key, createNew: mode.kind === 'create-new', copyPrefix, conditional: this.conditional });
    if (keep > 0 && !copyPrefix) {
      try {
        await upload.preload(await this.readPrefix(key, keep, etag));
      } catch (err) {
        await upload.abort();
        throw err;
      }
    }
    return upload;
  }

  /**
   * Checks where an upload goes: the parent directory exists, the name is
   * not a directory, create-new finds nothing there; resolves with the
   * current object's HEAD when the mode keeps or forbids one.
   */
  private async checkWriteTarget(path: string, key: string, mode: WriteMode): Promise<HeadObjectCommandOutput | null> {
    const needHead = mode.kind !== 'replace';
    const [parentOk, isDir, existing] = await Promise.all([
      dirExists(this.t, parentPath(path)),
      prefixExists(this.t, this.t.keys.dirPrefix(path)),
      needHead ? head(this.t, key) : null,
    ]);
    if (!parentOk) throw new VfsError('not-found', 'no such file or directory');
    if (isDir) throw new VfsError('is-dir', 'is a directory');
    if (existing && mode.kind === 'create-new') throw new VfsError('exists', 'already exists');
    return existing;
  }

  /** The first `n` bytes of an object (short prefixes that appends and offset writes keep). */
  private async readPrefix(key: string, n: number, etag: string): Promise<Buffer> {
    return guard(async () => {
      const out = await this.t.client.send(new GetObjectCommand({ Bucket: this.t.keys.bucket, Key: key, Range: `bytes=0-${n - 1}`, IfMatch: etag || undefined }));
      const data = Buffer.from((await out.Body?.transformToByteArray()) ?? []);
      if (data.length !== n) throw new VfsError('io', 'the file changed while it was read');
      return data;
    });
  }

  async mkdir(path: string): Promise<void> {
    const key = this.t.keys.fileKey(path);
    const prefix = this.t.keys.dirPrefix(path);
    const [parentOk, file, dir] = await Promise.all([dirExists(this.t, parentPath(path)), head(this.t, key), prefixExists(this.t, prefix)]);
    if (file || dir) throw new VfsError('exists', 'already exists');
    if (!parentOk) throw new VfsError('not-found', 'no such file or directory');
    // Conditional, so that of two MKDs of one name at once (on any nodes) one is refused, as on a disk.
    await guard(() =>
      writeIfAbsent(this.conditional, (cond) => this.t.client.send(new PutObjectCommand({ Bucket: this.t.keys.bucket, Key: prefix, Body: EMPTY, ContentLength: 0, ...cond }))),
    );
  }

  async rmdir(path: string): Promise<void> {
    const key = this.t.keys.fileKey(path);
    const prefix = this.t.keys.dirPrefix(path);
    const out = await guard(() => this.t.client.send(new ListObjectsV2Command({ Bucket: this.t.keys.bucket, Prefix: prefix, MaxKeys: 3 })));
    const keys = (out.Contents ?? []).map((o) => o.Key ?? '');
    if (keys.length === 0) throw (await head(this.t, key)) ? new VfsError('not-dir', 'not a directory') : new VfsError('not-found', 'no such file or directory');
    if (keys.some((k) => k !== prefix && k !== prefix + MTIMES_NAME)) throw new VfsError('not-empty', 'directory not empty');
    for (const k of keys) await deleteKey(this.t, k);
  }

  async remove(path: string): Promise<void> {
    const key = this.t.keys.fileKey(path);
    const h = await head(this.t, key);
    if (!h) throw (await dirExists(this.t, path)) ? new VfsError('is-dir', 'is a directory') : new VfsError('not-found', 'no such file or directory');
    await deleteKey(this.t, key);
    // A set time leaves an entry in the directory's index: it goes too (with the index, once empty).
    if (metaMtime(h.Metadata)) await this.index.forget(this.t.keys.dirPrefix(parentPath(path)), nameOf(path)).catch(() => undefined);
  }

  rename(from: string, to: string): Promise<void> {
    return renamePath(this.t, this.index, from, to);
  }

  /**
   * Keeps the time in the object's metadata (a copy of the object onto
   * itself with new metadata, inside S3), and in the directory's index so
   * listings show it. A directory's time goes on its marker (made if the
   * directory had none).
   */
  async setMtime(path: string, mtime: Date): Promise<void> {
    const ms = mtime.getTime();
    if (Number.isNaN(ms)) throw new VfsError('io', 'invalid time');
    if (segmentsOf(path).length === 0) throw new VfsError('denied', 'not allowed on the root');
    const key = this.t.keys.fileKey(path);
    const parent = this.t.keys.dirPrefix(parentPath(path));
    const name = nameOf(path);
    const meta = { [MTIME_META]: new Date(ms).toISOString() };
    const h = await head(this.t, key);
    if (h) {
      const copied = await copyObject(this.t, key, key, h.ContentLength ?? 0, { replaceMetadata: { ...h.Metadata, ...meta }, source: h });
      const lastModified = copied.lastModified ?? (await head(this.t, key))?.LastModified;
      await this.index.record(parent, name, [ms, bareEtag(copied.etag), seconds(lastModified)]);
      return;
    }
    const prefix = this.t.keys.dirPrefix(path);
    if (!(await prefixExists(this.t, prefix))) throw new VfsError('not-found', 'no such file or directory');
    await guard(() => this.t.client.send(new PutObjectCommand({ Bucket: this.t.keys.bucket, Key: prefix, Body: EMPTY, ContentLength: 0, Metadata: meta })));
    await this.index.record(parent, `${name}/`, [ms, null, null]);
  }

  /** Aborts the multipart uploads that this machine's dead processes left under `dir` (see registry.ts). */
  recover(before: Date, dir = '/'): Promise<number> {
    return recoverUploads(this.t, before, this.t.keys.dirPrefix(dir));
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.t.client.destroy();
  }
}
