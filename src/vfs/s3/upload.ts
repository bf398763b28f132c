/**
 * Uploads to S3 with bounded memory. Bytes written to the stream fill one
 * part buffer (`partSize`); a full buffer becomes an UploadPart of a
 * multipart upload, with at most `queueSize` parts in flight (a write
 * waits for a free slot: backpressure reaches the client). Nothing is
 * visible under the final name until commit, which completes the
 * multipart upload (or, for an upload smaller than one part, sends one
 * PutObject): S3 replaces the old object in one step, so an overwritten
 * file stays whole until then. abort() cancels the requests in flight and
 * aborts the multipart upload. Appends and offset writes start from a
 * copy of the kept bytes of the old object: copied inside S3 with
 * UploadPartCopy when long enough to be a part, else read back and sent
 * as the first bytes.
 */
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, PutObjectCommand, UploadPartCommand, UploadPartCopyCommand, type CompletedPart } from '@aws-sdk/client-s3';
import { VfsError } from '../errors.js';
import type { Upload } from '../types.js';
import { errorName, httpStatus, toVfsError } from './client.js';
import type { S3Target } from './context.js';
import { head } from './listing.js';
import { copySource } from './location.js';
import { abortUpload, startRegistered, unregister, type Registered } from './registry.js';

/** How an upload starts and ends. */
export interface UploadPlan {
  key: string;
  /** Refuse to replace an existing object at commit (`exists`). */
  createNew: boolean;
  /** Copy the first `size` bytes of the current object (ETag `etag`) inside S3 as the first parts. */
  copyPrefix?: { size: number; etag: string };
  /** Set by the backend when the server refused conditional writes once (If-None-Match on PUT). */
  conditional: { supported: boolean };
}

type State = 'open' | 'committing' | 'done';

/**
 * Sends a write that must not replace an existing object with
 * `If-None-Match: *`, so S3 itself refuses it when another writer got
 * there first (412, or 409 for a conditional write racing another: both
 * `exists`). A server that does not implement conditional writes (501)
 * gets the write again without the condition, and `flag` remembers not
 * to ask it again.
 */
export async function writeIfAbsent(flag: { supported: boolean }, send: (cond: { IfNoneMatch?: string }) => Promise<unknown>): Promise<void> {
  if (!flag.supported) {
    await send({});
    return;
  }
  try {
    await send({ IfNoneMatch: '*' });
  } catch (err) {
    const status = httpStatus(err);
    if (status === 412 || status === 409 || errorName(err) === 'PreconditionFailed') throw new VfsError('exists', 'already exists', err);
    if (status !== 501 && errorName(err) !== 'NotImplemented') throw err;
    flag.supported = false;
    await send({});
  }
}

const EMPTY = Buffer.alloc(0);

/** A streamed upload of one object. */
export class S3Upload implements Upload {
  readonly stream: Writable;
  private state: State = 'open';
  private cur: Buffer = EMPTY;
  private curLen = 0;
  private multipart: Promise<Registered> | null = null;
  private readonly parts: CompletedPart[] = [];
  private nextPart = 1;
  private readonly inflight = new Set<Promise<void>>();
  private failure: unknown = null;
  private readonly cancel = new AbortController();

  constructor(
    private readonly t: S3Target,
    private readonly plan: UploadPlan,
  ) {
    this.stream = new Writable({
      highWaterMark: 64 * 1024,
      write: (chunk: Buffer, _enc, cb) => {
        this.accept(chunk).then(
          () => cb(),
          (err: unknown) => cb(toVfsError(err)),
        );
      },
    });
    if (plan.copyPrefix) this.copyParts(plan.copyPrefix);
  }

  /** Takes bytes before the client's (a prefix read back from the old object). */
  async preload(data: Buffer): Promise<void> {
    await this.accept(data);
  }

  /** Copies bytes into the part buffer, sending each full part. */
  private async accept(chunk: Buffer): Promise<void> {
    if (this.state === 'done') throw new VfsError('io', 'upload already finished');
    const size = this.t.tuning.partSize;
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(chunk.length - off, size - this.curLen);
      this.reserve(n);
      chunk.copy(this.cur, this.curLen, off, off + n);
      this.curLen += n;
      off += n;
      if (this.curLen === size) {
        const full = this.cur.subarray(0, size);
        this.cur = EMPTY;
        this.curLen = 0;
        await this.launch((partNumber) => this.sendPart(partNumber, full));
      }
    }
  }

  /**
   * Makes room for `n` more bytes in the part buffer. It grows by doubling
   * from 64 KiB, so a small upload holds little; once a part has been sent
   * the next buffer is a whole part at once.
   */
  private reserve(n: number): void {
    if (this.cur.length - this.curLen >= n) return;
    const size = this.t.tuning.partSize;
    const want = this.nextPart > 1 ? size : Math.min(size, Math.max(this.cur.length * 2, this.curLen + n, 64 * 1024));
    const next = Buffer.allocUnsafe(want);
    this.cur.copy(next, 0, 0, this.curLen);
    this.cur = next;
  }

  private started(): Promise<Registered> {
    // Not cancellable: an upload S3 created must get its registry entry (or be aborted) before abort() looks at it.
    this.multipart ??= startRegistered(this.t, this.plan.key, async () => {
      const out = await this.t.client.send(new CreateMultipartUploadCommand({ Bucket: this.t.keys.bucket, Key: this.plan.key }));
      return out.UploadId ?? '';
    });
    return this.multipart;
  }

  /** Starts one part request once a slot is free; its failure fails the upload. */
  private async launch(send: (partNumber: number) => Promise<CompletedPart>): Promise<void> {
    if (this.failure) throw toVfsError(this.failure);
    await this.started();
    while (this.inflight.size >= this.t.tuning.queueSize) await Promise.race(this.inflight);
    if (this.failure) throw toVfsError(this.failure);
    if (this.cancel.signal.aborted) throw new VfsError('io', 'upload aborted');
    const n = this.nextPart++;
    const job: Promise<void> = send(n).then(
      (part) => void this.parts.push(part),
      (err: unknown) => void (this.failure ??= err),
    );
    this.inflight.add(job);
    void job.finally(() => this.inflight.delete(job));
  }

  private async sendPart(partNumber: number, body: Buffer): Promise<CompletedPart> {
    const { uploadId } = await this.started();
    const out = await this.t.client.send(new UploadPartCommand({ Bucket: this.t.keys.bucket, Key: this.plan.key, UploadId: uploadId, PartNumber: partNumber, Body: body }), {
      abortSignal: this.cancel.signal,
    });
    return { PartNumber: partNumber, ETag: out.ETag };
  }

  /** Queues the server-side copy of the kept prefix as the first parts (each at least `minCopyPart`, at most `copyPartSize`). */
  private copyParts(prefix: { size: number; etag: string }): void {
    const count = Math.max(1, Math.ceil(prefix.size / this.t.tuning.copyPartSize));
    const each = Math.ceil(prefix.size / count);
    const ranges: [number, number][] = [];
    for (let start = 0; start < prefix.size; start += each) ranges.push([start, Math.min(prefix.size, start + each) - 1]);
    const source = copySource(this.t.keys.bucket, this.plan.key);
    for (const [first, last] of ranges) {
      // Part numbers are taken in order here, before any data part.
      const n = this.nextPart++;
      const job = this.started()
        .then(({ uploadId }) =>
          this.t.client.send(
            new UploadPartCopyCommand({
              Bucket: this.t.keys.bucket,
              Key: this.plan.key,
              UploadId: uploadId,
              PartNumber: n,
              CopySource: source,
              CopySourceRange: `bytes=${first}-${last}`,
              CopySourceIfMatch: prefix.etag,
            }),
            { abortSignal: this.cancel.signal },
          ),
        )
        .then(
          (out) => void this.parts.push({ PartNumber: n, ETag: out.CopyPartResult?.ETag }),
          (err: unknown) => void (this.failure ??= err),
        );
      this.inflight.add(job);
      void job.finally(() => this.inflight.delete(job));
    }
  }

  /** Waits for every part in flight; throws the first failure. */
  private async settle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
    if (this.failure) throw toVfsError(this.failure);
  }

  async commit(): Promise<void> {
    if (this.state !== 'open') throw new VfsError('io', 'upload already finished');
    this.state = 'committing';
    try {
      await this.drain();
      if (this.multipart) await this.completeMultipart();
      else await this.putWhole();
    } catch (err) {
      await this.discard();
      throw toVfsError(err);
    } finally {
      this.state = 'done';
      this.release();
    }
  }

  /** Ends the stream (if the writer did not) and waits until it took every byte. */
  private async drain(): Promise<void> {
    const stream = this.stream;
    if (stream.errored || (stream.destroyed && !stream.writableFinished)) throw new VfsError('io', 'upload stream failed');
    if (!stream.writableEnded) stream.end();
    try {
      await finished(stream, { readable: false });
    } catch {
      throw new VfsError('io', 'upload stream failed');
    }
  }

  /** One PutObject for an upload smaller than a part. */
  private async putWhole(): Promise<void> {
    await this.checkCreateNew();
    const body = this.cur.subarray(0, this.curLen);
    await this.conditionally((cond) =>
      this.t.client.send(new PutObjectCommand({ Bucket: this.t.keys.bucket, Key: this.plan.key, Body: body, ContentLength: body.length, ...cond })),
    );
  }

  private async completeMultipart(): Promise<void> {
    if (this.curLen > 0 || this.nextPart === 1) {
      const last = this.cur.subarray(0, this.curLen);
      await this.launch((n) => this.sendPart(n, last));
    }
    await this.settle();
    const { uploadId, registry } = await this.started();
    await this.checkCreateNew();
    const parts = [...this.parts].sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    await this.conditionally((cond) =>
      this.t.client.send(new CompleteMultipartUploadCommand({ Bucket: this.t.keys.bucket, Key: this.plan.key, UploadId: uploadId, MultipartUpload: { Parts: parts }, ...cond })),
    );
    await unregister(this.t, registry);
  }

  /** create-new: refused when the name exists by now (another upload committed first). */
  private async checkCreateNew(): Promise<void> {
    if (this.plan.createNew && (await head(this.t, this.plan.key))) throw new VfsError('exists', 'already exists');
  }

  /** The final write, with `If-None-Match: *` for create-new (see {@link writeIfAbsent}). */
  private async conditionally(send: (cond: { IfNoneMatch?: string }) => Promise<unknown>): Promise<void> {
    if (this.plan.createNew) await writeIfAbsent(this.plan.conditional, send);
    else await send({});
  }

  async abort(): Promise<void> {
    if (this.state === 'done') return;
    this.state = 'done';
    await this.discard();
    this.release();
  }

  /** Cancels requests in flight and aborts the multipart upload, if one started. */
  private async discard(): Promise<void> {
    this.cancel.abort();
    if (!this.stream.destroyed) this.stream.destroy();
    await Promise.allSettled([...this.inflight]);
    const mp = this.multipart ? await this.multipart.catch(() => null) : null;
    if (!mp) return;
    await abortUpload(this.t, this.plan.key, mp.uploadId).catch(() => undefined);
    await unregister(this.t, mp.registry);
  }

  private release(): void {
    this.cur = EMPTY;
    this.curLen = 0;
  }
}
