/**
 * The registry of this server's unfinished multipart uploads, and the
 * start-up clean-up of those a crash left behind.
 *
 * ListMultipartUploads shows an upload's key, id and start time, but not
 * its metadata, and an upload's key is its final name: nothing S3 lists
 * tells which server started an upload. So every multipart upload this
 * backend starts is recorded in a small object under the root,
 * `.wharf-uploads/<host>-<pid>-<boot>-<random>`, holding its key and
 * upload id, and removed when the upload completes or is aborted. The
 * name says which machine (`host`, a hash of the host name), process
 * (`pid`) and run of that process (`boot`, random per process start) made
 * it, so `recover()` aborts only uploads of this machine's processes that
 * are gone or of an earlier run; another worker or node keeps the uploads
 * it is receiving.
 *
 * The entry is written before the upload exists: first the key alone (an
 * intent), then CreateMultipartUpload, then the entry again with the
 * upload id. A process killed between the two writes leaves an intent;
 * recovery then aborts the uploads of that key that S3 says were started
 * after the intent was written and within {@link INTENT_WINDOW_MS} of it,
 * and that no other entry claims. A bucket lifecycle rule
 * (AbortIncompleteMultipartUpload) remains the backstop for the rest.
 */
import { randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type MultipartUpload,
} from '@aws-sdk/client-s3';
import { errorName, guard, isNotFound } from './client.js';
import type { S3Target } from './context.js';

/** Random per process start: tells this run's uploads from an earlier run's with the same pid. */
const BOOT = randomBytes(4).toString('hex');

/** What a registry entry holds: the key, and the upload id once S3 has given one. */
interface Entry {
  key: string;
  uploadId?: string;
}

/** A multipart upload this backend started, and its registry entry. */
export interface Registered {
  uploadId: string;
  registry: string;
}

/**
 * How long after an intent its upload can have been started: the creating
 * request's attempts and timeouts fit well within it (client.ts).
 */
export const INTENT_WINDOW_MS = 5 * 60 * 1000;
/** Most pages of uploads looked at for one intent. */
const MAX_UPLOAD_PAGES = 10;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when the entry named `name` belongs to a process of this machine that is gone (or to an earlier run of this pid). */
export function isLeftover(name: string, hostTag: string): boolean {
  const m = /^([0-9a-z]+)-(\d+)-([0-9a-f]+)-[0-9a-f]+$/.exec(name);
  if (!m || m[1] !== hostTag) return false;
  const pid = Number(m[2]);
  if (pid === process.pid) return m[3] !== BOOT;
  return !alive(pid);
}

async function writeEntry(t: S3Target, registryKey: string, entry: Entry): Promise<void> {
  await guard(() => t.client.send(new PutObjectCommand({ Bucket: t.keys.bucket, Key: registryKey, Body: JSON.stringify(entry), ContentType: 'application/json' })));
}

/**
 * Starts a multipart upload of `key` through `create` (which resolves with
 * the upload id), recorded in the registry before it exists (see above).
 * On failure nothing is left behind: the entry is removed and an upload
 * already created is aborted.
 */
export async function startRegistered(t: S3Target, key: string, create: () => Promise<string>): Promise<Registered> {
  const registry = t.keys.registryKey(`${t.hostTag}-${process.pid}-${BOOT}-${randomBytes(6).toString('hex')}`);
  await writeEntry(t, registry, { key });
  let uploadId: string;
  try {
    uploadId = await create();
  } catch (err) {
    await unregister(t, registry);
    throw err;
  }
  try {
    await writeEntry(t, registry, { key, uploadId });
  } catch (err) {
    await abortUpload(t, key, uploadId).catch(() => undefined);
    await unregister(t, registry);
    throw err;
  }
  return { uploadId, registry };
}

/** Removes a registry entry (best effort: a leftover entry of a finished upload is harmless). */
export async function unregister(t: S3Target, registryKey: string): Promise<void> {
  await t.client.send(new DeleteObjectCommand({ Bucket: t.keys.bucket, Key: registryKey })).catch(() => undefined);
}

/** Aborts a multipart upload; an upload already gone is fine. */
export async function abortUpload(t: S3Target, key: string, uploadId: string): Promise<void> {
  try {
    await t.client.send(new AbortMultipartUploadCommand({ Bucket: t.keys.bucket, Key: key, UploadId: uploadId }));
  } catch (err) {
    if (errorName(err) !== 'NoSuchUpload' && !isNotFound(err)) throw err;
  }
}

async function readEntry(t: S3Target, key: string): Promise<Entry | null> {
  try {
    const out = await t.client.send(new GetObjectCommand({ Bucket: t.keys.bucket, Key: key }));
    const doc = JSON.parse((await out.Body?.transformToString('utf8')) ?? '') as Partial<Entry>;
    if (typeof doc.key !== 'string') return null;
    return typeof doc.uploadId === 'string' ? { key: doc.key, uploadId: doc.uploadId } : { key: doc.key };
  } catch (err) {
    if (isNotFound(err)) return null;
    if (err instanceof SyntaxError) return null;
    throw err;
  }
}

/**
 * Aborts the leftover uploads of this machine's dead processes whose keys
 * lie under `dirPrefix` and whose registry entries were written before
 * `before`; removes their entries. Resolves with how many were aborted.
 */
export async function recoverUploads(t: S3Target, before: Date, dirPrefix: string): Promise<number> {
  const { hostTag } = t;
  const base = t.keys.registryKey();
  let token: string | undefined;
  let aborted = 0;
  let claims: Set<string> | undefined;
  do {
    const page = await guard(() => t.client.send(new ListObjectsV2Command({ Bucket: t.keys.bucket, Prefix: `${base}${hostTag}-`, ContinuationToken: token })));
    for (const o of page.Contents ?? []) {
      const key = o.Key ?? '';
      if (!isLeftover(key.slice(base.length), hostTag) || (o.LastModified && o.LastModified >= before)) continue;
      const entry = await readEntry(t, key);
      if (entry && !entry.key.startsWith(dirPrefix)) continue;
      if (entry) aborted += await abortFor(t, entry, o.LastModified ?? before, async () => (claims ??= await claimed(t)));
      await unregister(t, key);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return aborted;
}

/** Aborts the upload an entry records, or for an entry without an id, those it stands for; resolves with how many. */
async function abortFor(t: S3Target, entry: Entry, written: Date, claims: () => Promise<Set<string>>): Promise<number> {
  const ids = entry.uploadId !== undefined ? [entry.uploadId] : await unclaimed(t, entry.key, written, await claims());
  for (const id of ids) await guard(() => abortUpload(t, entry.key, id));
  return ids.length;
}

/** The upload ids that some registry entry of this root (any machine's) records. */
async function claimed(t: S3Target): Promise<Set<string>> {
  const ids = new Set<string>();
  let token: string | undefined;
  do {
    const page = await guard(() => t.client.send(new ListObjectsV2Command({ Bucket: t.keys.bucket, Prefix: t.keys.registryKey(), ContinuationToken: token })));
    for (const o of page.Contents ?? []) {
      const entry = o.Key ? await readEntry(t, o.Key) : null;
      if (entry?.uploadId !== undefined) ids.add(entry.uploadId);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return ids;
}

/**
 * The uploads of `key` an intent written at `written` stands for: started
 * at or after it (S3's clock for both; listings may round to the second)
 * and within the window, and claimed by no entry.
 */
async function unclaimed(t: S3Target, key: string, written: Date, claims: Set<string>): Promise<string[]> {
  const from = Math.floor(written.getTime() / 1000) * 1000;
  const to = written.getTime() + INTENT_WINDOW_MS;
  const ids: string[] = [];
  let keyMarker: string | undefined;
  let idMarker: string | undefined;
  for (let pages = 0; pages < MAX_UPLOAD_PAGES; pages++) {
    const page = await guard(() => t.client.send(new ListMultipartUploadsCommand({ Bucket: t.keys.bucket, Prefix: key, KeyMarker: keyMarker, UploadIdMarker: idMarker })));
    for (const u of page.Uploads ?? []) if (standsFor(u, key, from, to, claims)) ids.push(u.UploadId ?? '');
    if (!page.IsTruncated) break;
    keyMarker = page.NextKeyMarker;
    idMarker = page.NextUploadIdMarker;
  }
  return ids;
}

export function standsFor(u: MultipartUpload, key: string, from: number, to: number, claims: Set<string>): boolean {
  const at = u.Initiated?.getTime();
  return u.Key === key && u.UploadId !== undefined && !claims.has(u.UploadId) && at !== undefined && at >= from && at <= to;
}
