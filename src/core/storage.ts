/**
 * Storage backends chosen by the root: a local directory, `memory:` (an
 * empty in-memory tree), `s3://BUCKET/PREFIX` (with `[storage.s3]`), or a
 * Vfs object a library user passes. The one place that knows every
 * backend; protocols only see the Vfs.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { Vfs } from '../vfs/types.js';
import { VfsError } from '../vfs/errors.js';
import { MemoryVfs } from '../vfs/memory/memoryVfs.js';
import { LocalVfs } from '../vfs/local/localVfs.js';
import { DirLister } from '../vfs/local/lister.js';
import { S3Vfs } from '../vfs/s3/s3Vfs.js';
import { makeClient, type S3Settings } from '../vfs/s3/client.js';
import { parseS3Url } from '../vfs/s3/location.js';
import { probeBucket } from '../vfs/s3/probe.js';
import type { S3Client } from '@aws-sdk/client-s3';
import { isStorageObject, storageScheme, type StorageSpec } from '../config/storage.js';
import type { WharfConfig } from '../config/load.js';

/** The `[storage.s3]` section as the config holds it. */
export type S3Section = NonNullable<NonNullable<WharfConfig['storage']>['s3']>;

/** The client settings of a `[storage.s3]` section. */
export function s3Settings(section: S3Section): S3Settings {
  return {
    endpoint: section.endpoint,
    region: section.region,
    forcePathStyle: section.force_path_style,
    accessKeyId: section.access_key_id,
    secretAccessKey: section.secret_access_key,
  };
}

/** What the opener needs beyond the specs. */
export interface StorageOpenerOptions {
  /** `[storage.s3]`, for `s3://` roots and homes. */
  s3?: S3Section;
}

/** How an account's storage is opened. */
export interface OpenOptions {
  /** Local disk only: write uploads in place (resumable) instead of atomically. */
  keepPartialUploads?: boolean;
}

/** Opens roots and homes, sharing what backends may share (the listing worker). */
export class StorageOpener {
  /** Directory listings of local roots run in one worker thread, shared by every session. */
  private readonly lister = new DirLister();
  private readonly opened = new Map<string, Promise<Vfs>>();
  /** Marks this machine's temporary files, so a sweep leaves other machines' alone. */
  readonly hostTag = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
  /** One S3 client for every `s3://` root and home (made on first use). */
  private s3Client: S3Client | null = null;

  constructor(private readonly options: StorageOpenerOptions = {}) {}

  /** Opens (once per spec, options and `key`) the storage a root or home names. */
  open(spec: StorageSpec, options: OpenOptions = {}, key = ''): Promise<Vfs> {
    if (isStorageObject(spec)) return Promise.resolve(spec);
    const id = `${spec}\0${options.keepPartialUploads === true}\0${storageScheme(spec) === 'memory' ? key : ''}`;
    let vfs = this.opened.get(id);
    if (!vfs) {
      vfs = this.create(spec, options);
      this.opened.set(id, vfs);
      vfs.catch(() => this.opened.delete(id));
    }
    return vfs;
  }

  private async create(spec: string, options: OpenOptions): Promise<Vfs> {
    switch (storageScheme(spec)) {
      case 'memory':
        return new MemoryVfs();
      case 'local':
        return LocalVfs.open(spec, { keepPartialUploads: options.keepPartialUploads, lister: this.lister, hostTag: this.hostTag });
      case 's3':
        return this.openS3(spec);
      default:
        throw new VfsError('unsupported', 'this kind of storage is not supported');
    }
  }

  /** An S3 root (never keeping partial uploads: a multipart upload is invisible until complete). */
  private openS3(spec: string): Vfs {
    const section = this.options.s3;
    const location = parseS3Url(spec);
    if (!section || typeof location === 'string') throw new VfsError('unsupported', 'this kind of storage is not configured');
    this.s3Client ??= makeClient(s3Settings(section));
    return new S3Vfs(location, { client: this.s3Client, hostTag: this.hostTag, tuning: { partSize: section.part_size, queueSize: section.upload_concurrency } });
  }

  /** Every backend opened so far. */
  async all(): Promise<Vfs[]> {
    const settled = await Promise.allSettled(this.opened.values());
    return settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  }

  /** Releases every backend and the listing worker. */
  async close(): Promise<void> {
    for (const vfs of await this.all()) await vfs.close?.().catch(() => undefined);
    await this.lister.close();
    this.s3Client?.destroy();
    this.s3Client = null;
  }
}

/**
 * Checks that the bucket of every `s3://` root and home answers (once per
 * bucket and prefix); resolves with one line per problem, naming the
 * setting: `anonymous.root: bucket "x" does not exist`.
 */
export async function checkS3Storage(config: WharfConfig): Promise<string[]> {
  const section = config.storage?.s3;
  const roots: [string, StorageSpec][] = [];
  if (config.anonymous) roots.push(['anonymous.root', config.anonymous.root]);
  config.users.forEach((u, i) => roots.push([`users[${i}].home`, u.home]));
  const s3Roots = roots.filter((r): r is [string, string] => typeof r[1] === 'string' && storageScheme(r[1]) === 's3');
  if (!section || s3Roots.length === 0) return [];
  const client = makeClient({ ...s3Settings(section), maxAttempts: 2 });
  try {
    const seen = new Map<string, Promise<string | null>>();
    const checks = s3Roots.map(async ([, spec]) => {
      const location = parseS3Url(spec);
      if (typeof location === 'string') return location;
      const id = `${location.bucket}/${location.prefix}`;
      if (!seen.has(id)) seen.set(id, probeBucket(client, location));
      return seen.get(id);
    });
    // The same problem (an unreachable endpoint, refused credentials) is told once, for the first setting that meets it.
    const lines = new Map<string, string>();
    for (const [i, problem] of (await Promise.all(checks)).entries()) if (problem && !lines.has(problem)) lines.set(problem, `${s3Roots[i]?.[0]}: ${problem}`);
    return [...lines.values()];
  } finally {
    client.destroy();
  }
}
