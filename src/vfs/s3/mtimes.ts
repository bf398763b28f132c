/**
 * Modification times set by MFMT (or SFTP setstat) on S3. The time itself
 * lives in the object's metadata (`x-amz-meta-wharf-mtime`), which stat
 * and downloads read (HEAD and GET return metadata). ListObjectsV2 does
 * not return metadata, and one HEAD per listed object is what a listing
 * must not cost, so each directory also keeps a small index object,
 * `.wharf-mtimes`, that the listing reads once: name -> the set time,
 * with the ETag and LastModified of the object version it was set on.
 * An entry counts only while the listed object still has that ETag and
 * LastModified, so a later overwrite (by Wharf or any other S3 client)
 * shows its own time without anyone having to clean the index. The index
 * is bounded (the most recent MAX_ENTRIES); writes to one directory's
 * index are serialised within this process (across nodes the last writer
 * wins: the listing may then show the upload time, stat still shows the
 * set time).
 */
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { guard, isNotFound, toVfsError } from './client.js';
import type { S3Target } from './context.js';
import { MTIMES_NAME } from './location.js';

/** One entry: the set time, and the object version it applies to (null for directories). */
export type MtimeEntry = readonly [mtimeMs: number, etag: string | null, lastModifiedSec: number | null];

/** A directory's index: names (directories end in `/`) to entries. */
export type MtimeMap = ReadonlyMap<string, MtimeEntry>;

/** Entries an index keeps (the oldest are dropped first). */
const MAX_ENTRIES = 10_000;
/** An index larger than this is ignored (a listing then shows the upload times). */
const MAX_BYTES = 2 * 1024 * 1024;

const EMPTY: MtimeMap = new Map();

function isEntry(v: unknown): v is MtimeEntry {
  return Array.isArray(v) && v.length === 3 && typeof v[0] === 'number' && (v[1] === null || typeof v[1] === 'string') && (v[2] === null || typeof v[2] === 'number');
}

function parse(text: string): Map<string, MtimeEntry> {
  const out = new Map<string, MtimeEntry>();
  try {
    const doc = JSON.parse(text) as { v?: unknown; m?: unknown };
    if (doc.v !== 1 || typeof doc.m !== 'object' || doc.m === null) return out;
    for (const [name, entry] of Object.entries(doc.m as Record<string, unknown>)) if (isEntry(entry)) out.set(name, entry);
  } catch {
    // A damaged index is an empty one.
  }
  return out;
}

/** Seconds of a time, as S3 listings and headers agree on them. */
export function seconds(date: Date | undefined): number | null {
  return date ? Math.floor(date.getTime() / 1000) : null;
}

/** An ETag without its quotes (S3 and compatible servers differ in where they keep them). */
export function bareEtag(etag: string | undefined): string | null {
  return etag ? etag.replace(/"/g, '') : null;
}

/** The directory indexes of one root. */
export class MtimeIndex {
  /** Writes in progress per index key, so two MFMTs in one directory do not lose each other. */
  private readonly writing = new Map<string, Promise<void>>();

  constructor(private readonly t: S3Target) {}

  /** The index of the directory whose key prefix is `dirPrefix` (empty when there is none). */
  async load(dirPrefix: string): Promise<MtimeMap> {
    try {
      const out = await this.t.client.send(new GetObjectCommand({ Bucket: this.t.keys.bucket, Key: dirPrefix + MTIMES_NAME }));
      if ((out.ContentLength ?? 0) > MAX_BYTES) {
        out.Body?.transformToWebStream()
          .cancel()
          .catch(() => undefined);
        return EMPTY;
      }
      return parse((await out.Body?.transformToString('utf8')) ?? '');
    } catch (err) {
      if (isNotFound(err)) return EMPTY;
      throw toVfsError(err);
    }
  }

  /** The set time of a listed file, if its index entry matches the listed version. */
  static fileTime(map: MtimeMap, name: string, etag: string | undefined, lastModified: Date | undefined): Date | null {
    const e = map.get(name);
    if (!e || e[1] !== bareEtag(etag) || e[2] !== seconds(lastModified)) return null;
    return new Date(e[0]);
  }

  /** The set time of a listed directory, if any. */
  static dirTime(map: MtimeMap, name: string): Date | null {
    const e = map.get(`${name}/`);
    return e ? new Date(e[0]) : null;
  }

  /** Records a set time in a directory's index. */
  record(dirPrefix: string, name: string, entry: MtimeEntry): Promise<void> {
    return this.update(dirPrefix, async (map) => {
      map.delete(name);
      map.set(name, entry);
      return map;
    });
  }

  /** Drops a name's entry (its object was renamed or removed); the index goes with its last entry. */
  forget(dirPrefix: string, name: string): Promise<void> {
    return this.update(dirPrefix, async (map) => {
      map.delete(name);
      return map;
    });
  }

  /**
   * Changes a directory's index: `change` gets the current entries and
   * returns the new ones (an empty map removes the index). Serialised per
   * directory within this process.
   */
  update(dirPrefix: string, change: (map: Map<string, MtimeEntry>) => Promise<Map<string, MtimeEntry>>): Promise<void> {
    const key = dirPrefix + MTIMES_NAME;
    const prev = this.writing.get(key) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(async () => this.write(key, await change(new Map(await this.load(dirPrefix)))));
    this.writing.set(key, next);
    const clear = () => {
      if (this.writing.get(key) === next) this.writing.delete(key);
    };
    next.then(clear, clear);
    return next;
  }

  private async write(key: string, map: Map<string, MtimeEntry>): Promise<void> {
    const { client, keys } = this.t;
    if (map.size === 0) {
      await guard(() => client.send(new DeleteObjectCommand({ Bucket: keys.bucket, Key: key })));
      return;
    }
    while (map.size > MAX_ENTRIES) map.delete(map.keys().next().value as string);
    const body = JSON.stringify({ v: 1, m: Object.fromEntries(map) });
    await guard(() => client.send(new PutObjectCommand({ Bucket: keys.bucket, Key: key, Body: body, ContentType: 'application/json' })));
  }
}
