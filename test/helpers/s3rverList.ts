/**
 * ListObjects with the `/` delimiter for the test S3 server (see
 * s3rverMain.ts), at the cost S3's own has: one page at a time.
 *
 * s3rver answers every page by walking the bucket's directory tree from
 * the top and reading the metadata of the page's keys, so each page of a
 * prefix with N objects costs a pass over its N × 2-3 files, and a full
 * listing O(N²): 20,000 objects took over 20 s here, and 100,000 would
 * take many minutes. With the delimiter, the entries of a prefix all sit
 * in one directory of its store: this reads that directory once (cached
 * until its modification time changes), keeps it sorted by key, and
 * answers each page with a binary search for the start key and the page's
 * own entries. Listings without a delimiter (or with another) stay
 * s3rver's.
 *
 * What a page holds is s3rver's rule, which the controller builds the
 * continuation token from: up to `maxKeys` objects, and the common
 * prefixes that sort between the start key and the page's last object
 * (the last page: all that remain). A sub-directory counts as a common
 * prefix only when some object lies below it, as in S3.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { posix } from 'node:path';

const OBJECT_SUFFIX = '._S3rver_object';

/** The parts of s3rver's FilesystemStore this uses. */
export interface ListingStore {
  getBucketPath(bucket: string): string;
  getMetadata(bucket: string, key: string): Promise<Record<string, unknown>>;
  listObjects(bucket: string, options: ListOptions): Promise<ListResult>;
}

export interface ListOptions {
  prefix?: string;
  delimiter?: string;
  startAfter?: string;
  maxKeys?: number;
}

interface ListResult {
  objects: unknown[];
  commonPrefixes: string[];
  isTruncated: boolean;
}

type S3ObjectCtor = new (bucket: string, key: string, content: null, metadata: Record<string, unknown>) => unknown;

/** One entry of a directory: an object's key, or a sub-directory's key prefix (ending in `/`). */
interface Item {
  key: string;
  dir: boolean;
}

/** The first object file below `dir` (any depth), or null. */
export function firstObject(dir: string): string | null {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = posix.join(dir, entry.name);
    const found = entry.isDirectory() ? firstObject(path) : entry.name.endsWith(OBJECT_SUFFIX) ? path : null;
    if (found) return found;
  }
  return null;
}

/**
 * What a listing shows of an object (ETag, size, time), read with two
 * synchronous calls: s3rver's getMetadata costs three requests to the
 * thread pool per key, a third of a second per page of 1,000 here. Null
 * when the object has no digest yet (s3rver's getMetadata makes it).
 */
function listedMetadata(objectPath: string): Record<string, unknown> | null {
  try {
    const md5 = readFileSync(`${objectPath}.md5`, 'utf8');
    const st = statSync(objectPath);
    return { etag: JSON.stringify(md5), 'last-modified': st.mtime.toUTCString(), 'content-length': st.size };
  } catch {
    return null;
  }
}

/** The first index in sorted `items` whose key is greater than `key` (or, with `orEqual`, not less). */
function lowerBound(items: readonly Item[], key: string, orEqual: boolean): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const k = (items[mid] as Item).key;
    if (k < key || (!orEqual && k === key)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Replaces `store.listObjects` for `/`-delimited listings. */
export function installFastListing(store: ListingStore, S3Object: S3ObjectCtor): void {
  const original = store.listObjects.bind(store);
  const cache = new Map<string, { mtime: bigint; items: Item[] }>();

  /** The sorted entries of the store directory holding the keys that start with `dirKey`. */
  const entries = (path: string, dirKey: string): Item[] => {
    let mtime: bigint;
    try {
      mtime = statSync(path, { bigint: true }).mtimeNs;
    } catch {
      return [];
    }
    const hit = cache.get(path);
    if (hit && hit.mtime === mtime) return hit.items;
    const items: Item[] = [];
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      if (entry.isDirectory()) items.push({ key: `${dirKey}${entry.name}/`, dir: true });
      else if (entry.name.endsWith(OBJECT_SUFFIX)) items.push({ key: dirKey + entry.name.slice(0, -OBJECT_SUFFIX.length), dir: false });
    }
    items.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    cache.set(path, { mtime, items });
    return items;
  };

  store.listObjects = async (bucket, options) => {
    const { prefix = '', delimiter = '', startAfter = '', maxKeys = Infinity } = options;
    if (delimiter !== '/' || process.platform === 'win32') return original(bucket, options);
    const dirKey = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    const bucketPath = store.getBucketPath(bucket);
    const items = entries(posix.join(bucketPath, dirKey), dirKey);
    const keys: string[] = [];
    const commonPrefixes: string[] = [];
    let isTruncated = false;
    for (let i = Math.max(lowerBound(items, prefix, true), lowerBound(items, startAfter, false)); i < items.length; i++) {
      const item = items[i] as Item;
      if (!item.key.startsWith(prefix)) break;
      if (!item.dir) {
        if (keys.length === maxKeys) {
          isTruncated = true;
          break;
        }
        keys.push(item.key);
      } else if (firstObject(posix.join(bucketPath, item.key))) {
        commonPrefixes.push(item.key);
      }
    }
    const objects: unknown[] = [];
    for (const key of keys) {
      const metadata = listedMetadata(posix.join(bucketPath, key) + OBJECT_SUFFIX) ?? (await store.getMetadata(bucket, key).catch(() => null));
      if (metadata) objects.push(new S3Object(bucket, key, null, metadata));
    }
    return { objects, commonPrefixes, isTruncated };
  };
}
