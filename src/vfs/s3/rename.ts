/**
 * RNFR/RNTO on S3, which has no rename: a file is copied inside S3 (see
 * copy.ts) and then deleted; a directory is moved object by object, each
 * copied then deleted, `renameConcurrency` at a time, page by page of the
 * listing (memory stays bounded whatever its size). A directory rename is
 * therefore not atomic: if it fails part-way, the error says how many
 * objects were moved, and the rest keep their old names (nothing is lost:
 * each object is deleted only after its copy exists).
 */
import { DeleteObjectCommand, ListObjectsV2Command, type HeadObjectCommandOutput } from '@aws-sdk/client-s3';
import { VfsError, VfsNoticeError } from '../errors.js';
import { isWithin } from '../path.js';
import { guard, toVfsError } from './client.js';
import { metaMtime, pool, type S3Target } from './context.js';
import { copyObject } from './copy.js';
import { dirExists, head, prefixExists } from './listing.js';
import { MTIMES_NAME, nameOf, parentPath, segmentsOf } from './location.js';
import { bareEtag, seconds, type MtimeEntry, type MtimeIndex } from './mtimes.js';

/** Deletes one key. */
export function deleteKey(t: S3Target, key: string): Promise<unknown> {
  return guard(() => t.client.send(new DeleteObjectCommand({ Bucket: t.keys.bucket, Key: key })));
}

/** Moves a file or a directory; see the module comment. */
export async function renamePath(t: S3Target, index: MtimeIndex, from: string, to: string): Promise<void> {
  const a = `/${segmentsOf(from).join('/')}`;
  const b = `/${segmentsOf(to).join('/')}`;
  if (a === '/' || b === '/') throw new VfsError('denied', 'not allowed on the root');
  const src = await head(t, t.keys.fileKey(a));
  if (src) return renameFile(t, index, a, b, src);
  if (!(await prefixExists(t, t.keys.dirPrefix(a)))) throw new VfsError('not-found', 'no such file or directory');
  if (a === b) return;
  if (isWithin(b, a)) throw new VfsError('denied', 'cannot move a directory into itself');
  return renameDir(t, index, a, b);
}

async function renameFile(t: S3Target, index: MtimeIndex, from: string, to: string, src: HeadObjectCommandOutput): Promise<void> {
  if (from === to) return;
  const toKey = t.keys.fileKey(to);
  const [parentOk, toIsDir] = await Promise.all([dirExists(t, parentPath(to)), prefixExists(t, t.keys.dirPrefix(to))]);
  if (!parentOk) throw new VfsError('not-found', 'no such file or directory');
  if (toIsDir) throw new VfsError('is-dir', 'is a directory');
  const copied = await copyObject(t, t.keys.fileKey(from), toKey, src.ContentLength ?? 0, { source: src });
  await deleteKey(t, t.keys.fileKey(from));
  // A time set by MFMT travels in the metadata; the new directory's index learns it too, for listings.
  const set = metaMtime(src.Metadata);
  if (set) {
    const lastModified = copied.lastModified ?? (await head(t, toKey))?.LastModified;
    await index.record(t.keys.dirPrefix(parentPath(to)), nameOf(to), [set.getTime(), bareEtag(copied.etag), seconds(lastModified)]).catch(() => undefined);
    await index.forget(t.keys.dirPrefix(parentPath(from)), nameOf(from)).catch(() => undefined);
  }
}

/** The keys of a directory's own bookkeeping (its marker and its mtime index), which do not make it non-empty. */
function ownKeys(prefix: string): Set<string> {
  return new Set([prefix, prefix + MTIMES_NAME]);
}

/** Prepares the target of a directory rename: absent, or an empty directory (whose marker goes). */
async function clearTarget(t: S3Target, to: string): Promise<void> {
  const [asFile, parentOk] = await Promise.all([head(t, t.keys.fileKey(to)), dirExists(t, parentPath(to))]);
  if (asFile) throw new VfsError('not-dir', 'not a directory');
  if (!parentOk) throw new VfsError('not-found', 'no such file or directory');
  const prefix = t.keys.dirPrefix(to);
  const out = await guard(() => t.client.send(new ListObjectsV2Command({ Bucket: t.keys.bucket, Prefix: prefix, MaxKeys: 3 })));
  const keys = (out.Contents ?? []).map((o) => o.Key ?? '');
  const own = ownKeys(prefix);
  if (keys.some((k) => !own.has(k))) throw new VfsError('not-empty', 'directory not empty');
  for (const k of keys) await deleteKey(t, k);
}

async function renameDir(t: S3Target, index: MtimeIndex, from: string, to: string): Promise<void> {
  await clearTarget(t, to);
  const src = t.keys.dirPrefix(from);
  const dst = t.keys.dirPrefix(to);
  const marker = await head(t, src);
  const indexes: string[] = [];
  let moved = 0;
  let token: string | undefined;
  try {
    do {
      const page = await guard(() => t.client.send(new ListObjectsV2Command({ Bucket: t.keys.bucket, Prefix: src, ContinuationToken: token })));
      const objects = (page.Contents ?? []).filter((o) => (o.Key ?? '').startsWith(src));
      await pool(objects, t.tuning.renameConcurrency, async (o) => {
        const key = o.Key ?? '';
        const target = dst + key.slice(src.length);
        await copyObject(t, key, target, o.Size ?? 0);
        await deleteKey(t, key);
        if (key.endsWith(`/${MTIMES_NAME}`)) indexes.push(target.slice(0, -MTIMES_NAME.length));
        moved++;
      });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } catch (err) {
    if (moved === 0) throw toVfsError(err);
    throw new VfsNoticeError('io', `directory rename stopped part-way: ${moved} object(s) moved, the rest kept their old names`, err);
  }
  // Listings learn the set times again: the moved files are new versions (new LastModified, maybe new ETags).
  await pool(indexes, t.tuning.renameConcurrency, (dir) => reindex(t, index, dir)).catch(() => undefined);
  const set = metaMtime(marker?.Metadata);
  if (set) await index.record(t.keys.dirPrefix(parentPath(to)), `${nameOf(to)}/`, [set.getTime(), null, null]).catch(() => undefined);
}

/**
 * Rebuilds a directory's index of set times from its objects' metadata
 * (one HEAD per file that has an entry, never per file of the directory).
 */
async function reindex(t: S3Target, index: MtimeIndex, dirPrefix: string): Promise<void> {
  await index.update(dirPrefix, async (map) => {
    const next = new Map<string, MtimeEntry>();
    await pool([...map], t.tuning.renameConcurrency, async ([name, entry]) => {
      if (name.endsWith('/')) {
        next.set(name, entry);
        return;
      }
      const h = await head(t, dirPrefix + name);
      const set = metaMtime(h?.Metadata);
      if (h && set) next.set(name, [set.getTime(), bareEtag(h.ETag), seconds(h.LastModified)]);
    });
    return next;
  });
}
