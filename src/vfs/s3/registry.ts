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
 * it is receiving. An upload started by a process killed between
 * CreateMultipartUpload and the registry write is not recorded: a bucket
 * lifecycle rule (AbortIncompleteMultipartUpload) is the backstop.
 */
import { randomBytes } from 'node:crypto';
import { AbortMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { errorName, guard, isNotFound } from './client.js';
import type { S3Target } from './context.js';

/** Random per process start: tells this run's uploads from an earlier run's with the same pid. */
const BOOT = randomBytes(4).toString('hex');

/** What a registry entry holds. */
interface Entry {
  key: string;
  uploadId: string;
}

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

/** Records an upload; resolves with the entry's key, to pass to {@link unregister}. */
export async function register(t: S3Target, entry: Entry): Promise<string> {
  const key = t.keys.registryKey(`${t.hostTag}-${process.pid}-${BOOT}-${randomBytes(6).toString('hex')}`);
  await guard(() => t.client.send(new PutObjectCommand({ Bucket: t.keys.bucket, Key: key, Body: JSON.stringify(entry), ContentType: 'application/json' })));
  return key;
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
    return typeof doc.key === 'string' && typeof doc.uploadId === 'string' ? { key: doc.key, uploadId: doc.uploadId } : null;
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
  do {
    const page = await guard(() => t.client.send(new ListObjectsV2Command({ Bucket: t.keys.bucket, Prefix: `${base}${hostTag}-`, ContinuationToken: token })));
    for (const o of page.Contents ?? []) {
      const key = o.Key ?? '';
      if (!isLeftover(key.slice(base.length), hostTag) || (o.LastModified && o.LastModified >= before)) continue;
      const entry = await readEntry(t, key);
      if (entry && !entry.key.startsWith(dirPrefix)) continue;
      if (entry) {
        await guard(() => abortUpload(t, entry.key, entry.uploadId));
        aborted++;
      }
      await unregister(t, key);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return aborted;
}
