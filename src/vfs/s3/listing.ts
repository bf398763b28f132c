/**
 * Directories on S3 are key prefixes. This module answers what is at a
 * path (a file is an object; a directory is a `dir/` marker object or any
 * key below `dir/`), and lists a directory with ListObjectsV2 and the
 * `/` delimiter, page by page: each page of up to 1,000 keys becomes one
 * batch as soon as it arrives, so a prefix with 100,000 objects never sits
 * in memory whole. Sizes and times come from the listing itself (plus one
 * read of the directory's `.wharf-mtimes` index, see mtimes.ts), never
 * from one request per object.
 */
import { createHash } from 'node:crypto';
import { HeadObjectCommand, ListObjectsV2Command, type HeadObjectCommandOutput, type _Object } from '@aws-sdk/client-s3';
import { VfsError } from '../errors.js';
import type { VfsStat } from '../types.js';
import { guard, orNull } from './client.js';
import { metaMtime, type S3Target } from './context.js';
import { nameOf, RESERVED_NAMES } from './location.js';
import { MtimeIndex, type MtimeMap } from './mtimes.js';

/** Pages of one listing at most: 100 million keys at S3's 1,000 per page. */
const MAX_PAGES = 100_000;

/** Permission bits shown for objects and prefixes. */
const FILE_MODE = 0o644;
const DIR_MODE = 0o755;
/** Size shown for a directory, as a disk shows it. */
const DIR_SIZE = 4096;

/** A stable identity for MLSx `unique`: a hash of the key. */
function uniqueOf(key: string): string {
  return `s3.${createHash('sha1').update(key).digest('hex').slice(0, 16)}`;
}

/**
 * A stat whose `unique` is hashed only when read: LIST and NLST never
 * read it, and a hash per entry was a tenth of the CPU of a big LIST.
 */
function statOf(fields: Omit<VfsStat, 'unique'>, key: string): VfsStat {
  let unique: string | undefined;
  return {
    ...fields,
    get unique() {
      return (unique ??= uniqueOf(key));
    },
  };
}

/** The stat of a file object. */
export function fileStat(name: string, key: string, size: number, mtime: Date): VfsStat {
  return statOf({ name, type: 'file', size, mtime, mode: FILE_MODE }, key);
}

/** The stat of a directory (its key prefix ends in `/`). */
export function dirStat(name: string, prefix: string, mtime: Date): VfsStat {
  return statOf({ name, type: 'dir', size: DIR_SIZE, mtime, mode: DIR_MODE }, prefix);
}

/** HEAD of one key; null when there is no such object. */
export function head(t: S3Target, key: string): Promise<HeadObjectCommandOutput | null> {
  return orNull(() => t.client.send(new HeadObjectCommand({ Bucket: t.keys.bucket, Key: key })));
}

/** True when any key starts with `prefix` (a marker or content: the directory exists). */
export async function prefixExists(t: S3Target, prefix: string): Promise<boolean> {
  const out = await guard(() => t.client.send(new ListObjectsV2Command({ Bucket: t.keys.bucket, Prefix: prefix, MaxKeys: 1 })));
  return (out.KeyCount ?? out.Contents?.length ?? 0) > 0;
}

/**
 * True when the virtual directory exists (the root always does). Its
 * marker is asked for first: a HEAD costs S3 a tenth of a LIST, and
 * directories made by MKD have one; a directory without a marker (made by
 * another S3 client) is found by listing.
 */
export async function dirExists(t: S3Target, path: string): Promise<boolean> {
  const prefix = t.keys.dirPrefix(path);
  if (prefix === t.keys.prefix) return true;
  return (await head(t, prefix)) !== null || prefixExists(t, prefix);
}

/** The stat of a HEADed object. */
export function statOfHead(name: string, key: string, h: HeadObjectCommandOutput): VfsStat {
  return fileStat(name, key, h.ContentLength ?? 0, metaMtime(h.Metadata) ?? h.LastModified ?? new Date());
}

/**
 * What is at a path: the object (a file), else the directory marker or
 * any key below (a directory), else `not-found`. A directory without a
 * marker, or whose marker carries no set time, shows the current time.
 */
export async function statPath(t: S3Target, path: string): Promise<VfsStat> {
  const name = nameOf(path);
  const prefix = t.keys.dirPrefix(path);
  if (prefix === t.keys.prefix) return dirStat('', prefix, new Date());
  const key = t.keys.fileKey(path);
  const file = await head(t, key);
  if (file) return statOfHead(name, key, file);
  // The marker first, as in dirExists: MKD's directories have one, and a HEAD costs S3 less than a LIST.
  const marker = await head(t, prefix);
  if (marker) return dirStat(name, prefix, metaMtime(marker.Metadata) ?? marker.LastModified ?? new Date());
  if (await prefixExists(t, prefix)) return dirStat(name, prefix, new Date());
  throw new VfsError('not-found', 'no such file or directory');
}

/** One page of ListObjectsV2, and what its entries are shown with. */
interface Page {
  /** The directory's key prefix. */
  prefix: string;
  contents: readonly _Object[];
  prefixes: readonly string[];
  /** The directory's set times. */
  times: MtimeMap;
  /** Common prefixes the previous page already showed. */
  seen: ReadonlySet<string>;
  /** The time shown for directories without a set time. */
  now: Date;
}

/** One page of a listing as stats: common prefixes are directories, objects are files; the marker and reserved names are left out. */
function pageStats({ prefix, contents, prefixes, times, seen, now }: Page): VfsStat[] {
  const out: VfsStat[] = [];
  for (const p of prefixes) {
    const name = p.slice(prefix.length, -1);
    if (name === '' || RESERVED_NAMES.has(name) || seen.has(p)) continue;
    out.push(dirStat(name, p, MtimeIndex.dirTime(times, name) ?? now));
  }
  for (const o of contents) {
    const key = o.Key ?? '';
    const name = key.slice(prefix.length);
    if (name === '' || name.includes('/') || RESERVED_NAMES.has(name)) continue;
    out.push(fileStat(name, key, o.Size ?? 0, MtimeIndex.fileTime(times, name, o.ETag, o.LastModified) ?? o.LastModified ?? now));
  }
  return out;
}

/**
 * The entries of a directory, one batch per page of ListObjectsV2. A
 * missing directory (no key below it) fails on the first step with
 * `not-found`, or `not-dir` when the path is a file. A common prefix that
 * a server repeats on the next page (some S3-compatible servers do) is
 * shown once. One page is fetched ahead (two at most in memory), and at
 * most MAX_PAGES are read (a server that never ends a listing).
 */
export async function* listDir(t: S3Target, index: MtimeIndex, path: string): AsyncGenerator<VfsStat[], void, undefined> {
  const prefix = t.keys.dirPrefix(path);
  const isRoot = prefix === t.keys.prefix;
  const times = await index.load(prefix);
  const now = new Date();
  const fetchPage = (token: string | undefined) =>
    guard(() => t.client.send(new ListObjectsV2Command({ Bucket: t.keys.bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token })));
  let pending: ReturnType<typeof fetchPage> | null = fetchPage(undefined);
  let seen = new Set<string>();
  let first = true;
  try {
    for (let pages = 0; pending && pages < MAX_PAGES; pages++) {
      const page = await pending;
      pending = null;
      const prefixes = (page.CommonPrefixes ?? []).map((p) => p.Prefix ?? '').filter((p) => p.startsWith(prefix));
      const contents = page.Contents ?? [];
      if (first && !isRoot && prefixes.length === 0 && contents.length === 0) await missingDir(t, path);
      first = false;
      const batch = pageStats({ prefix, contents, prefixes, times, seen, now });
      seen = new Set(prefixes);
      // The next page is asked for before this one goes to the client: S3's latency overlaps the sending.
      if (page.IsTruncated && page.NextContinuationToken) pending = fetchPage(page.NextContinuationToken);
      if (batch.length > 0) yield batch;
    }
  } finally {
    // A listing the client abandoned: the page asked for in advance is dropped.
    pending?.catch(() => undefined);
  }
}

/** Throws why a directory with no keys cannot be listed: it is a file, or nothing. */
async function missingDir(t: S3Target, path: string): Promise<never> {
  const file = await head(t, t.keys.fileKey(path));
  throw file ? new VfsError('not-dir', 'not a directory') : new VfsError('not-found', 'no such file or directory');
}
