/**
 * The S3-compatible server of the tests, run as a child process by
 * test/helpers/s3.ts: s3rver (npm, in-process in this child) on 127.0.0.1,
 * port 0, storing in a given directory, with one bucket. Prints one line
 * `{"port":N}` once it listens; exits on SIGTERM or when its stdin closes
 * (so it never outlives the test process).
 *
 * s3rver 3.7.1 lacks operations real S3 has, and writes objects in place.
 * Read in its source (lib/routes.js, lib/stores/filesystem.js):
 * - AbortMultipartUpload (DELETE ?uploadId): 405 MethodNotAllowed;
 * - ListMultipartUploads (GET ?uploads): 501 NotImplemented;
 * - UploadPartCopy (PUT ?uploadId with x-amz-copy-source): 501;
 * - PutObject and CompleteMultipartUpload truncate and rewrite the object
 *   file in place (and answer before it is flushed), so a reader or a
 *   concurrent writer of the same key sees a mix, where S3 replaces an
 *   object atomically.
 * - ListObjectsV2 with a delimiter misses common prefixes that hold
 *   objects only two or more levels down, and costs a walk of the whole
 *   bucket per page (see s3rverList.ts);
 * - conditional writes: PutObject and CompleteMultipartUpload ignore
 *   `If-None-Match` and `If-Match`, which AWS S3 enforces (412
 *   PreconditionFailed when `If-None-Match: *` finds the key, or when
 *   `If-Match` names another ETag; 404 NoSuchKey for `If-Match` on a
 *   missing key; 501 for an `If-None-Match` other than `*`).
 * This launcher adds the three operations as S3 documents them, on
 * s3rver's own store layout, makes object writes atomic (a temporary
 * file renamed into place) and checks the write conditions at that
 * moment, as S3 does when the write completes. The S3 backend itself uses
 * only standard S3.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, posix } from 'node:path';
import { installFastListing, type ListingStore } from './s3rverList.js';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const require = createRequire(import.meta.url);

/** The parts of a Koa context this file uses. */
interface Ctx {
  method: string;
  path: string;
  query: Record<string, string | undefined>;
  headers: Record<string, string | undefined>;
  status: number;
  body: unknown;
  req: Readable;
}
type Next = () => Promise<void>;
type Middleware = (ctx: Ctx, next: Next) => Promise<void>;

interface S3Object {
  bucket: string;
  key: string;
  content: Readable | Buffer;
  metadata: Record<string, string>;
}

interface Store extends ListingStore {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5?: string): Promise<void>;
  putObject(object: S3Object): Promise<{ md5: string; size: number }>;
}

interface S3rverApp {
  store: Store;
  middleware: Middleware[];
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}

type S3ErrorCtor = new (code: string, message: string, detail?: Record<string, string>) => Error;

/**
 * s3rver lists a prefix by walking its directory tree with one statSync
 * per entry, so every ListObjectsV2 in a directory of N objects costs 3N
 * stat calls. The same walk, in the same (sorted) order, from the entry
 * types readdir already gives; installed before s3rver's store module
 * takes its reference to `walk`.
 *
 * Listings with the `/` delimiter no longer walk (see s3rverList.ts).
 */
const utils = require('s3rver/lib/utils') as { walk: (dir: string, filter?: (path: string) => boolean) => Generator<string> };
utils.walk = function* walk(dir: string, filter?: (path: string) => boolean): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = posix.join(dir, entry.name);
    if (!entry.isDirectory()) yield path;
    else if (!filter || filter(path)) yield* walk(path, filter);
  }
};

const S3rver = require('s3rver') as new (options: Record<string, unknown>) => S3rverApp;
const S3Error = require('s3rver/lib/models/error') as S3ErrorCtor;
const S3ObjectModel = require('s3rver/lib/models/object') as (new (bucket: string, key: string, content: null, metadata: Record<string, unknown>) => unknown) & {
  ALLOWED_METADATA: string[];
};
const { ALLOWED_METADATA } = S3ObjectModel;

const [directory, bucket] = process.argv.slice(2);
if (!directory || !bucket) {
  process.stderr.write('usage: s3rverMain DIRECTORY BUCKET\n');
  process.exit(2);
}

const app = new S3rver({ address: '127.0.0.1', port: 0, silent: process.env.WHARF_S3RVER_LOG !== '1', directory, configureBuckets: [{ name: bucket }], vhostBuckets: false });
const store = app.store;
installFastListing(store, S3ObjectModel);
const uploadsDir = (b: string) => store.getResourcePath(b, undefined, 'uploads');

/** The conditions of the write request being served (PutObject or CompleteMultipartUpload). */
interface WriteConditions {
  ifNoneMatch?: string;
  ifMatch?: string;
}
const conditions = new AsyncLocalStorage<WriteConditions>();

/**
 * Throws S3's error when the request's conditions do not hold for the
 * object at `objectPath` now. Synchronous, like the rename that follows
 * it: no other write can come in between (this server is one thread).
 */
function checkConditions(objectPath: string): void {
  const cond = conditions.getStore();
  if (!cond) return;
  const exists = existsSync(objectPath);
  if (cond.ifNoneMatch !== undefined) {
    if (cond.ifNoneMatch.trim() !== '*') throw new S3Error('NotImplemented', 'A header you provided implies functionality that is not implemented', { Header: 'If-None-Match' });
    if (exists) throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-None-Match' });
  }
  if (cond.ifMatch !== undefined) {
    if (!exists) throw new S3Error('NoSuchKey', 'The specified key does not exist.');
    let md5 = '';
    try {
      md5 = readFileSync(`${objectPath}.md5`, 'utf8');
    } catch {
      // No digest yet: no ETag can match.
    }
    const wanted = cond.ifMatch.split(',').map((e) => e.trim().replace(/"/g, ''));
    if (!wanted.includes('*') && !wanted.includes(md5))
      throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-Match' });
  }
}

/** s3rver's putMetadata, synchronous: the stored headers and `x-amz-meta-*`, and the digest (the ETag). */
function writeMetadataSync(b: string, key: string, metadata: Record<string, string>, md5: string): void {
  const json: Record<string, string> = {};
  for (const [name, value] of Object.entries(metadata)) if (ALLOWED_METADATA.includes(name) || name.startsWith('x-amz-meta-')) json[name] = value;
  writeFileSync(store.getResourcePath(b, key, 'object.md5'), md5);
  writeFileSync(store.getResourcePath(b, key, 'metadata.json'), JSON.stringify(json, null, 2));
}

/**
 * Object writes: to a temporary file, flushed, then (once the request's
 * conditions are checked) renamed over the object, S3 replacing objects
 * atomically. The digest and metadata are written in the same synchronous
 * step, so a reader never pairs one version's bytes with another's ETag.
 */
store.putObject = async (object: S3Object) => {
  const objectPath = store.getResourcePath(object.bucket, object.key, 'object');
  await mkdir(dirname(objectPath), { recursive: true });
  const tmp = `${objectPath}.tmp-${randomBytes(6).toString('hex')}`;
  const md5 = createHash('md5');
  let size = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      md5.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  const source = Buffer.isBuffer(object.content) ? [object.content] : object.content;
  try {
    await pipeline(source, count, createWriteStream(tmp));
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  const digest = md5.digest('hex');
  try {
    checkConditions(objectPath);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  writeMetadataSync(object.bucket, object.key, object.metadata, digest);
  renameSync(tmp, objectPath);
  return { md5: digest, size };
};

function xml(name: string, fields: Record<string, unknown>): Record<string, unknown> {
  return { [name]: { '@': { xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/' }, ...fields } };
}

/** `/bucket/key...` of a path-style request. */
function target(ctx: Ctx): { b: string; key: string } {
  const [, b = '', ...rest] = ctx.path.split('/');
  return { b: decodeURIComponent(b), key: rest.map((s) => decodeURIComponent(s)).join('/') };
}

async function abortUpload(ctx: Ctx): Promise<void> {
  const { b } = target(ctx);
  const dir = join(uploadsDir(b), ctx.query.uploadId ?? '');
  if (!(await stat(dir).catch(() => null))) throw new S3Error('NoSuchUpload', 'The specified upload does not exist.');
  await rm(dir, { recursive: true, force: true });
  ctx.status = 204;
  ctx.body = '';
}

async function listUploads(ctx: Ctx): Promise<void> {
  const { b } = target(ctx);
  const prefix = ctx.query.prefix ?? '';
  const ids = await readdir(uploadsDir(b)).catch(() => [] as string[]);
  const uploads: Record<string, string>[] = [];
  for (const id of ids.sort()) {
    const key = await readFile(join(uploadsDir(b), id, 'key'), 'utf8').catch(() => null);
    if (key === null || !key.startsWith(prefix)) continue;
    const st = await stat(join(uploadsDir(b), id, 'key'));
    uploads.push({ Key: key, UploadId: id, Initiated: st.mtime.toISOString(), StorageClass: 'STANDARD' });
  }
  ctx.body = xml('ListMultipartUploadsResult', { Bucket: b, KeyMarker: '', UploadIdMarker: '', Prefix: prefix, MaxUploads: 1000, IsTruncated: false, Upload: uploads });
}

async function uploadPartCopy(ctx: Ctx): Promise<void> {
  const { b } = target(ctx);
  const source = decodeURIComponent((ctx.headers['x-amz-copy-source'] ?? '').replace(/^\//, ''));
  const slash = source.indexOf('/');
  const srcPath = store.getResourcePath(source.slice(0, slash), source.slice(slash + 1), 'object');
  const srcStat = await stat(srcPath).catch(() => null);
  if (!srcStat) throw new S3Error('NoSuchKey', 'The specified key does not exist.');
  const wanted = ctx.headers['x-amz-copy-source-if-match'];
  if (wanted) {
    const md5 = await readFile(`${srcPath}.md5`, 'utf8').catch(() => '');
    if (wanted.replace(/"/g, '') !== md5) throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
  }
  const m = /^bytes=(\d+)-(\d+)$/.exec(ctx.headers['x-amz-copy-source-range'] ?? '');
  const start = m ? Number(m[1]) : 0;
  const end = m ? Number(m[2]) : srcStat.size - 1;
  if (start > end || end >= srcStat.size) throw new S3Error('InvalidRange', 'The requested range is not satisfiable');
  const dir = join(uploadsDir(b), ctx.query.uploadId ?? '');
  if (!(await stat(dir).catch(() => null))) throw new S3Error('NoSuchUpload', 'The specified upload does not exist.');
  const partPath = join(dir, String(Number(ctx.query.partNumber)));
  const md5 = createHash('md5');
  await pipeline(
    createReadStream(srcPath, { start, end }),
    new Transform({
      transform(chunk: Buffer, _enc, cb) {
        md5.update(chunk);
        cb(null, chunk);
      },
    }),
    createWriteStream(partPath),
  );
  const digest = md5.digest('hex');
  await writeFile(`${partPath}.md5`, digest);
  ctx.body = xml('CopyPartResult', { ETag: JSON.stringify(digest), LastModified: new Date().toISOString() });
}

/** The operations s3rver lacks, answered before its router sees them. */
const extensions: Middleware = async (ctx, next) => {
  const q = ctx.query;
  if (ctx.method === 'DELETE' && q.uploadId !== undefined) return abortUpload(ctx);
  if (ctx.method === 'GET' && 'uploads' in q && target(ctx).key === '') return listUploads(ctx);
  if (ctx.method === 'PUT' && q.uploadId !== undefined && ctx.headers['x-amz-copy-source']) return uploadPartCopy(ctx);
  const isWrite = (ctx.method === 'PUT' && !ctx.headers['x-amz-copy-source'] && q.uploadId === undefined) || (ctx.method === 'POST' && q.uploadId !== undefined);
  if (isWrite && (ctx.headers['if-none-match'] !== undefined || ctx.headers['if-match'] !== undefined)) {
    return conditions.run({ ifNoneMatch: ctx.headers['if-none-match'], ifMatch: ctx.headers['if-match'] }, next);
  }
  return next();
};

// Before the router (the last middleware), after the XML encoder that turns object bodies into XML.
app.middleware.splice(app.middleware.length - 1, 0, extensions);

const { port } = await app.run();
process.stdout.write(`${JSON.stringify({ port })}\n`);

// The data lives in the directory the parent removes; nothing here needs a graceful close.
const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
