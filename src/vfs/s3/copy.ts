/**
 * Server-side copies, the ground of renames and of MFMT on S3: one
 * CopyObject up to `copyThreshold` (S3's limit is 5 GiB), above it a
 * multipart copy, UploadPartCopy of ranges of `copyPartSize` (at most
 * 10,000 parts), completed in one step like any upload. The bytes never
 * pass through this server.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  UploadPartCopyCommand,
  type CompletedPart,
  type HeadObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { guard } from './client.js';
import { pool, type S3Target } from './context.js';
import { copySource } from './location.js';
import { head } from './listing.js';
import { abortUpload, startRegistered, unregister } from './registry.js';

/** What a copy made: the new object's ETag and time. */
export interface Copied {
  etag?: string;
  lastModified?: Date;
}

/** Metadata to give the copy instead of the source's (MFMT); absent: the source's is kept. */
export interface CopyOptions {
  replaceMetadata?: Record<string, string>;
  /** The source's HEAD, to carry its content headers over when the metadata is replaced. */
  source?: HeadObjectCommandOutput;
}

/** The content headers of an object, which a copy with new metadata must restate. */
function contentHeaders(h: HeadObjectCommandOutput | undefined) {
  return {
    ContentType: h?.ContentType,
    CacheControl: h?.CacheControl,
    ContentDisposition: h?.ContentDisposition,
    ContentEncoding: h?.ContentEncoding,
    ContentLanguage: h?.ContentLanguage,
  };
}

/** Copies the object `from` (of `size` bytes) to `to`, inside S3. */
export async function copyObject(t: S3Target, from: string, to: string, size: number, options: CopyOptions = {}): Promise<Copied> {
  if (size > t.tuning.copyThreshold) return multipartCopy(t, from, to, size, options);
  const replace = options.replaceMetadata !== undefined;
  const out = await guard(() =>
    t.client.send(
      new CopyObjectCommand({
        Bucket: t.keys.bucket,
        Key: to,
        CopySource: copySource(t.keys.bucket, from),
        ...(replace ? { MetadataDirective: 'REPLACE', Metadata: options.replaceMetadata, ...contentHeaders(options.source) } : {}),
      }),
    ),
  );
  return { etag: out.CopyObjectResult?.ETag, lastModified: out.CopyObjectResult?.LastModified };
}

/** A copy in parts, for objects too large for one CopyObject. */
async function multipartCopy(t: S3Target, from: string, to: string, size: number, options: CopyOptions): Promise<Copied> {
  const { bucket } = t.keys;
  // Unlike CopyObject, a multipart upload does not take the source's metadata by itself.
  const source = options.source ?? (await head(t, from)) ?? undefined;
  const metadata = options.replaceMetadata ?? source?.Metadata;
  const { uploadId, registry } = await startRegistered(t, to, async () => {
    const created = await guard(() => t.client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: to, Metadata: metadata, ...contentHeaders(source) })));
    return created.UploadId ?? '';
  });
  try {
    const partSize = Math.max(t.tuning.copyPartSize, Math.ceil(size / 10_000));
    const ranges: [number, number, number][] = [];
    for (let start = 0, n = 1; start < size; start += partSize, n++) ranges.push([n, start, Math.min(size, start + partSize) - 1]);
    const parts: CompletedPart[] = [];
    const copyFrom = copySource(bucket, from);
    await pool(ranges, t.tuning.queueSize, async ([n, first, last]) => {
      const out = await guard(() =>
        t.client.send(new UploadPartCopyCommand({ Bucket: bucket, Key: to, UploadId: uploadId, PartNumber: n, CopySource: copyFrom, CopySourceRange: `bytes=${first}-${last}` })),
      );
      parts.push({ PartNumber: n, ETag: out.CopyPartResult?.ETag });
    });
    parts.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    const done = await guard(() => t.client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: to, UploadId: uploadId, MultipartUpload: { Parts: parts } })));
    return { etag: done.ETag };
  } catch (err) {
    await abortUpload(t, to, uploadId).catch(() => undefined);
    throw err;
  } finally {
    await unregister(t, registry);
  }
}
