/**
 * Downloads: one streamed GetObject, ranged (`bytes=START-`) when the
 * transfer starts at an offset (REST, the web view's Range requests, SFTP
 * reads at an offset). The request is sent when the file is opened, so
 * the handle's stat comes from the same response as the bytes, and a
 * reader keeps the version it opened even if the object is replaced.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { GetObjectCommand, type GetObjectCommandOutput } from '@aws-sdk/client-s3';
import { VfsError } from '../errors.js';
import type { ReadHandle, VfsStat } from '../types.js';
import { codeOf, toVfsError } from './client.js';
import { metaMtime, type S3Target } from './context.js';
import { dirExists, fileStat, head, statOfHead } from './listing.js';
import { nameOf } from './location.js';

/** An open S3 object: its stat and the response body. */
class S3ReadHandle implements ReadHandle {
  constructor(
    readonly stat: VfsStat,
    readonly stream: Readable,
  ) {}

  close(): void {
    this.stream.destroy();
  }
}

/** The total size of the object a (possibly ranged) GET answered. */
function totalSize(out: GetObjectCommandOutput, start: number): number {
  const m = /\/(\d+)\s*$/.exec(out.ContentRange ?? '');
  if (m) return Number(m[1]);
  return start + (out.ContentLength ?? 0);
}

/** The body of a GET as a Node stream. */
function bodyStream(out: GetObjectCommandOutput): Readable {
  const body = out.Body;
  if (body instanceof Readable) return body;
  if (!body) return Readable.from([]);
  return Readable.fromWeb(body.transformToWebStream() as WebReadableStream<Uint8Array>);
}

/** Opens a file for reading from `start`. */
export async function openRead(t: S3Target, path: string, start: number): Promise<ReadHandle> {
  if (!Number.isSafeInteger(start) || start < 0) throw new VfsError('bad-offset', 'invalid offset');
  if (t.keys.dirPrefix(path) === t.keys.prefix) throw new VfsError('is-dir', 'is a directory');
  const key = t.keys.fileKey(path);
  const name = nameOf(path);
  let out: GetObjectCommandOutput;
  try {
    // No Range for offset 0: a ranged GET of an empty object is refused (416) by S3.
    out = await t.client.send(new GetObjectCommand({ Bucket: t.keys.bucket, Key: key, Range: start > 0 ? `bytes=${start}-` : undefined }));
  } catch (err) {
    const code = codeOf(err);
    if (code === 'not-found') throw (await dirExists(t, path)) ? new VfsError('is-dir', 'is a directory') : toVfsError(err);
    if (code === 'bad-offset') return atOrPastEnd(t, key, name, start);
    throw toVfsError(err);
  }
  const stat = fileStat(name, key, totalSize(out, start), metaMtime(out.Metadata) ?? out.LastModified ?? new Date());
  return new S3ReadHandle(stat, bodyStream(out));
}

/** A ranged GET was refused: an empty read when `start` is exactly the size, else `bad-offset`. */
async function atOrPastEnd(t: S3Target, key: string, name: string, start: number): Promise<ReadHandle> {
  const h = await head(t, key);
  if (!h) throw new VfsError('not-found', 'no such file or directory');
  if ((h.ContentLength ?? 0) !== start) throw new VfsError('bad-offset', 'offset beyond the end of the file');
  return new S3ReadHandle(statOfHead(name, key, h), Readable.from([]));
}
