/**
 * Where an S3 root lives, and the path jail of the S3 backend: an
 * `s3://BUCKET/PREFIX` URL parsed into a bucket and a key prefix, and the
 * mapping of virtual paths to object keys under that prefix. Pure string
 * work (no I/O): the config uses it to check URLs, the backend to make
 * every key it sends. A virtual path is normalised again here, so no key
 * can ever leave the prefix, whatever path a caller passes.
 */
import { VfsError } from '../errors.js';
import { resolveVirtualPath } from '../path.js';

/** A parsed `s3://BUCKET/PREFIX`. */
export interface S3Location {
  bucket: string;
  /** The key prefix: `''` (the whole bucket) or segments ending in `/` (`pub/`). */
  prefix: string;
}

/**
 * Names the backend keeps for itself, in every directory: `.wharf-uploads`
 * (the registry of this server's unfinished multipart uploads, at the root)
 * and `.wharf-mtimes` (a directory's modification times set by MFMT). They
 * are never listed, and no client path may name them.
 */
export const RESERVED_NAMES: ReadonlySet<string> = new Set(['.wharf-uploads', '.wharf-mtimes']);

/** The registry directory of unfinished uploads, relative to the prefix. */
const UPLOADS_DIR = '.wharf-uploads/';

/** The per-directory index of set modification times. */
export const MTIMES_NAME = '.wharf-mtimes';

/** Longest key S3 accepts, in UTF-8 bytes. */
const MAX_KEY_BYTES = 1024;

const BUCKET_RE = /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/;

/**
 * Parses `s3://BUCKET[/PREFIX]`. Returns the location, or a one-line
 * problem. The prefix is taken literally (no percent-decoding); empty,
 * `.` and `..` segments, control characters, `?`, `#` and backslashes are
 * refused, so the prefix names exactly one place.
 */
export function parseS3Url(spec: string): S3Location | string {
  const m = /^s3:\/\/([^/]*)(?:\/(.*))?$/i.exec(spec);
  if (!m) return `"${clip(spec)}" is not an s3:// URL (expected s3://BUCKET/PREFIX)`;
  const bucket = m[1] ?? '';
  if (!BUCKET_RE.test(bucket) || bucket.includes('..')) return `"${clip(spec)}": "${clip(bucket)}" is not a valid bucket name (3-63 lower-case letters, digits, dots, hyphens)`;
  const rest = (m[2] ?? '').replace(/\/+$/, '');
  if (rest === '') return { bucket, prefix: '' };
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f?#\\]/.test(rest)) return `"${clip(spec)}": the prefix may not contain control characters, ?, # or backslashes`;
  const segs = rest.split('/');
  if (segs.some((s) => s === '' || s === '.' || s === '..')) return `"${clip(spec)}": the prefix may not contain empty, "." or ".." segments`;
  if (segs.some((s) => RESERVED_NAMES.has(s))) return `"${clip(spec)}": the prefix may not use the reserved names .wharf-uploads and .wharf-mtimes`;
  const prefix = `${segs.join('/')}/`;
  if (Buffer.byteLength(prefix) > MAX_KEY_BYTES / 2) return `"${clip(spec)}": the prefix is too long`;
  return { bucket, prefix };
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** The segments of a virtual path, normalised; reserved names and bad characters refused. */
export function segmentsOf(path: string): string[] {
  let norm: string;
  try {
    norm = resolveVirtualPath('/', path);
  } catch {
    throw new VfsError('denied', 'invalid file name');
  }
  const segs = norm === '/' ? [] : norm.slice(1).split('/');
  if (segs.some((s) => RESERVED_NAMES.has(s))) throw new VfsError('denied', 'this name is reserved by the server');
  return segs;
}

/**
 * The key space of one root: virtual paths to keys under the prefix and
 * back. A file `/a/b.txt` is the key `PREFIX` + `a/b.txt`; a directory
 * `/a` is everything under `PREFIX` + `a/`, and may have a zero-byte
 * marker object with exactly that key.
 */
export class KeySpace {
  constructor(readonly location: S3Location) {}

  get bucket(): string {
    return this.location.bucket;
  }

  get prefix(): string {
    return this.location.prefix;
  }

  /** The key of a file (the root is not a file: `denied`). */
  fileKey(path: string): string {
    const segs = segmentsOf(path);
    if (segs.length === 0) throw new VfsError('denied', 'not allowed on the root');
    return this.checked(this.prefix + segs.join('/'));
  }

  /** The key prefix of a directory, ending in `/` (the root's is the prefix itself). */
  dirPrefix(path: string): string {
    const segs = segmentsOf(path);
    return segs.length === 0 ? this.prefix : this.checked(`${this.prefix}${segs.join('/')}/`);
  }

  /** The virtual path of a key under the prefix (`/` for the prefix itself). */
  pathOf(key: string): string {
    const rel = key.slice(this.prefix.length).replace(/\/$/, '');
    return `/${rel}`;
  }

  /** The key of this root's upload registry entry named `name`. */
  registryKey(name = ''): string {
    return `${this.prefix}${UPLOADS_DIR}${name}`;
  }

  private checked(key: string): string {
    if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw new VfsError('denied', 'name too long for the storage');
    return key;
  }
}

/** The virtual path's last segment, as a listing shows it (`''` for the root). */
export function nameOf(path: string): string {
  const segs = segmentsOf(path);
  return segs[segs.length - 1] ?? '';
}

/** The virtual path of the parent directory (after normalising). */
export function parentPath(path: string): string {
  const segs = segmentsOf(path);
  return `/${segs.slice(0, -1).join('/')}`;
}

/**
 * Encodes a key for `x-amz-copy-source`: percent-encoding as a URL decoder
 * reads it back, but leaving the ASCII punctuation that needs no escape
 * (`/`, `!$&'()*,:;=@#~`) as it is. Both AWS (which percent-decodes the
 * header) and simpler servers that only undo `%XX` of unreserved bytes get
 * the same key; `+`, `?`, `%` and every non-ASCII byte are always escaped.
 */
export function copySource(bucket: string, key: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%(2F|21|24|26|27|28|29|2A|2C|3A|3B|3D|40|23|7E)/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return `${enc(bucket)}/${enc(key)}`;
}
