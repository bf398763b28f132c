/**
 * What every part of the S3 backend works with: the client, the key space
 * of the root, and the tuning (part sizes, how many requests in flight).
 * Plus the small pieces they share: a bounded worker pool and the
 * metadata key that keeps a modification time set by MFMT.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { KeySpace } from './location.js';

/** Sizes and bounds of the backend. */
export interface S3Tuning {
  /** Bytes per uploaded part (default 8 MiB; S3 needs at least 5 MiB for every part but the last). */
  partSize: number;
  /** Parts of one upload in flight at once (default 4): an upload holds at most (this + 1) × partSize bytes. */
  queueSize: number;
  /** Objects larger than this are copied part by part with UploadPartCopy (default and S3's limit: 5 GiB). */
  copyThreshold: number;
  /** Bytes per part of such a copy (default 512 MiB; at most 5 GiB). */
  copyPartSize: number;
  /** Objects copied or deleted at once when a directory is renamed (default 16). */
  renameConcurrency: number;
  /** Appends and offset writes keep a prefix shorter than this by reading it back (default 5 MiB); a longer one is copied inside S3. */
  minCopyPart: number;
}

/** The defaults of {@link S3Tuning}. */
export const DEFAULT_TUNING: S3Tuning = Object.freeze({
  partSize: 8 * 1024 * 1024,
  queueSize: 4,
  copyThreshold: 5 * 1024 * 1024 * 1024,
  copyPartSize: 512 * 1024 * 1024,
  renameConcurrency: 16,
  minCopyPart: 5 * 1024 * 1024,
});

/** One root on S3: its client, keys and tuning. */
export interface S3Target {
  client: S3Client;
  keys: KeySpace;
  tuning: S3Tuning;
  /** Marks this machine in the registry of unfinished uploads (see registry.ts). */
  hostTag: string;
}

/** The user-metadata name (`x-amz-meta-wharf-mtime`) holding a time set by MFMT/SETSTAT, as ISO 8601. */
export const MTIME_META = 'wharf-mtime';

/** The modification time an object's metadata holds, if valid. */
export function metaMtime(metadata: Record<string, string> | undefined): Date | null {
  const text = metadata?.[MTIME_META];
  if (!text) return null;
  const t = Date.parse(text);
  return Number.isNaN(t) ? null : new Date(t);
}

/** Runs `fn` over `items`, at most `width` at a time; the first failure stops new work and rejects once the running ones settle. */
export async function pool<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | null = null;
  const lane = async (): Promise<void> => {
    while (!failure && next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, width), items.length) }, lane));
  if (failure) throw (failure as { err: unknown }).err;
}
