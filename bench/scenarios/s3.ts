/**
 * The S3 scenarios: FTP front-ends of one bucket (bench/s3/store.ts), and
 * the same work done straight with the AWS SDK (`s3-sdk`, the ceiling):
 *
 * - `s3-retr-big`: RETR of the big object (SDK: one streamed GetObject);
 * - `s3-stor-big`: STOR of as many bytes into `incoming/` (SDK: a
 *   multipart upload with the front-ends' part size, 4 parts in flight);
 * - `s3-list-N`: LIST of the prefix of N objects (SDK: ListObjectsV2 with
 *   the `/` delimiter, page after page);
 * - `s3-small-uploads`: uploads of small files one after another in one
 *   session (SDK: one PutObject each).
 *
 * Besides the front-end's CPU, each reports the store's (s3rver's) CPU:
 * the share of the work that is the storage's, the same for every
 * front-end. Uploads are deleted afterwards.
 */
import path from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { NAMES } from '../dataset.js';
import { download, upload } from '../ftp/data.js';
import type { Options } from '../options.js';
import { cpuSeconds } from '../proc.js';
import { s3Store, type S3Store } from '../s3/store.js';
import { clientChildSeconds } from '../sftpClient.js';
import { CLIENT_CPU, GiB, MB, measure, openSession, sizeLabel, type Ctx, type Measured, type MetricDef, type Scenario } from './common.js';

/** The run's S3 store. */
export function store(ctx: Ctx): Promise<S3Store> {
  return s3Store(path.dirname(ctx.dataset.root), path.join(ctx.dataset.root, NAMES.big));
}

/**
 * Runs `fn` measured, and reads the store's CPU around it; with `clients`,
 * the CPU of the client processes (OpenSSH `sftp`, curl) is added to the
 * load generator's.
 */
export async function measureWithStore<T>(ctx: Ctx, s: S3Store, fn: () => Promise<T>, clients = false): Promise<Measured<T> & { storeCpu: number }> {
  const before = await cpuSeconds(s.pid, false);
  const c0 = clients ? await clientChildSeconds() : 0;
  const m = await measure(ctx, fn);
  const clientCpu = m.clientCpu + (clients ? (await clientChildSeconds()) - c0 : 0);
  return { ...m, clientCpu, clientPct: m.wall > 0 ? (clientCpu / m.wall) * 100 : 0, storeCpu: (await cpuSeconds(s.pid, false)) - before };
}

/** Throughput metrics of an S3 transfer: the front-end's CPU and the store's per GiB. */
export const THROUGHPUT: MetricDef[] = [
  { key: 'mbps', label: 'throughput', unit: 'MB/s', better: 'higher', digits: 0 },
  { key: 'cpuPerGiB', label: 'front-end CPU', unit: 's/GiB', better: 'lower', digits: 2 },
  { key: 'storeCpuPerGiB', label: 'S3 server CPU', unit: 's/GiB', better: 'lower', digits: 2 },
  CLIENT_CPU,
];

/** Reads a GetObject body to its end, counting bytes. */
async function drain(body: AsyncIterable<Uint8Array> | undefined): Promise<number> {
  let n = 0;
  for await (const chunk of body ?? []) n += chunk.length;
  return n;
}

/** GetObject of `key`, read to its end: the bytes received. */
export async function sdkGet(s: S3Store, key: string): Promise<number> {
  const out = await s.client.send(new GetObjectCommand({ Bucket: s.bucket, Key: key }));
  return drain(out.Body as AsyncIterable<Uint8Array> | undefined);
}

/** ListObjectsV2 of `prefix` (ending in `/`) with the `/` delimiter, page after page: the keys listed. */
export async function sdkList(s: S3Store, prefix: string): Promise<number> {
  let token: string | undefined;
  let keys = 0;
  for (let pages = 0; pages < 100_000; pages++) {
    const page = await s.client.send(new ListObjectsV2Command({ Bucket: s.bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }));
    keys += page.KeyCount ?? 0;
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
    if (!token) break;
  }
  return keys;
}

/** A multipart upload of `total` bytes in parts of `partBytes` (one preallocated buffer), 4 in flight. */
export async function sdkMultipart(s: S3Store, key: string, total: number, partBytes: number): Promise<void> {
  const { UploadId } = await s.client.send(new CreateMultipartUploadCommand({ Bucket: s.bucket, Key: key }));
  const part = Buffer.alloc(Math.min(partBytes, total), 0x5a);
  const count = Math.ceil(total / partBytes);
  const etags: string[] = new Array<string>(count);
  let next = 0;
  const lane = async () => {
    for (let guard = 0; next < count && guard < 100_000; guard++) {
      const n = next++;
      const size = Math.min(partBytes, total - n * partBytes);
      const out = await s.client.send(new UploadPartCommand({ Bucket: s.bucket, Key: key, UploadId, PartNumber: n + 1, Body: part.subarray(0, size), ContentLength: size }));
      etags[n] = out.ETag ?? '';
    }
  };
  await Promise.all(Array.from({ length: 4 }, lane));
  const Parts = etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 }));
  await s.client.send(new CompleteMultipartUploadCommand({ Bucket: s.bucket, Key: key, UploadId, MultipartUpload: { Parts } }));
}

/** One PutObject of a small body. */
export function sdkPut(s: S3Store, key: string, body: Buffer): Promise<unknown> {
  return s.client.send(new PutObjectCommand({ Bucket: s.bucket, Key: key, Body: body, ContentLength: body.length }));
}

/** Deletes an object (a missing one is no error). */
export function remove(s: S3Store, key: string): Promise<unknown> {
  return s.client.send(new DeleteObjectCommand({ Bucket: s.bucket, Key: key })).catch(() => undefined);
}

/** RETR of the big object. */
export function s3RetrBig(opts: Options): Scenario {
  return {
    id: 's3-retr-big',
    title: `S3: RETR ${sizeLabel(opts.bigBytes)}`,
    tls: false,
    protocol: 's3',
    metrics: THROUGHPUT,
    applies: () => true,
    async run(ctx) {
      const s = await store(ctx);
      const direct = ctx.server.direct === true;
      const c = direct ? null : await openSession(ctx, false);
      try {
        const m = await measureWithStore(ctx, s, async () => {
          const t0 = performance.now();
          if (c) return download(c, `RETR ${s.big}`, false, ctx.opts.transferTimeoutMs);
          const bytes = await sdkGet(s, `${s.prefix}/${s.big}`);
          return { bytes, seconds: (performance.now() - t0) / 1000 };
        });
        const { bytes, seconds } = m.result;
        if (bytes !== ctx.opts.bigBytes) throw new Error(`short RETR: ${bytes} of ${ctx.opts.bigBytes} bytes`);
        const gib = bytes / GiB;
        return { mbps: bytes / MB / seconds, ...(direct ? {} : { cpuPerGiB: m.serverCpu / gib }), storeCpuPerGiB: m.storeCpu / gib, clientCpu: m.clientPct };
      } finally {
        await c?.quit();
      }
    },
  };
}

/** STOR of as many bytes into incoming/. */
export function s3StorBig(opts: Options): Scenario {
  return {
    id: 's3-stor-big',
    title: `S3: STOR ${sizeLabel(opts.bigBytes)} (${sizeLabel(opts.s3PartBytes)} parts)`,
    tls: false,
    protocol: 's3',
    metrics: THROUGHPUT,
    applies: () => true,
    async run(ctx) {
      const s = await store(ctx);
      const direct = ctx.server.direct === true;
      const name = `up-${ctx.spec.name}-${ctx.rep}-${process.pid}.bin`;
      const c = direct ? null : await openSession(ctx, false);
      try {
        const m = await measureWithStore(ctx, s, async () => {
          if (c) return upload(c, `STOR ${s.incoming}/${name}`, ctx.opts.bigBytes, ctx.opts.transferTimeoutMs);
          const t0 = performance.now();
          await sdkMultipart(s, `${s.prefix}/${s.incoming}/${name}`, ctx.opts.bigBytes, ctx.opts.s3PartBytes);
          return { bytes: ctx.opts.bigBytes, seconds: (performance.now() - t0) / 1000 };
        });
        const { bytes, seconds } = m.result;
        const gib = bytes / GiB;
        return { mbps: bytes / MB / seconds, ...(direct ? {} : { cpuPerGiB: m.serverCpu / gib }), storeCpuPerGiB: m.storeCpu / gib, clientCpu: m.clientPct };
      } finally {
        await c?.quit();
        await remove(s, `${s.prefix}/${s.incoming}/${name}`);
      }
    },
  };
}

/** LIST of the prefix of N objects. */
export function s3List(opts: Options): Scenario {
  const n = opts.s3ListSize;
  return {
    id: `s3-list-${n}`,
    title: `S3: LIST of ${n.toLocaleString('en')} objects`,
    tls: false,
    protocol: 's3',
    metrics: [
      { key: 'seconds', label: 'time', unit: 's', better: 'lower', digits: 3 },
      { key: 'cpuMs', label: 'front-end CPU', unit: 'ms', better: 'lower', digits: 0 },
      { key: 'storeCpuMs', label: 'S3 server CPU', unit: 'ms', better: 'lower', digits: 0 },
      CLIENT_CPU,
    ],
    applies: () => true,
    async run(ctx) {
      const s = await store(ctx);
      const direct = ctx.server.direct === true;
      const c = direct ? null : await openSession(ctx, false);
      try {
        if (c) await c.expect(`CWD ${s.listDir(n)}`, 2);
        const m = await measureWithStore(ctx, s, async () => {
          if (c) return (await download(c, 'LIST', true, ctx.opts.transferTimeoutMs)).lines;
          return sdkList(s, `${s.prefix}/${s.listDir(n)}/`);
        });
        if (m.result < n) throw new Error(`LIST returned ${m.result} entries for ${n} objects`);
        return { seconds: m.wall, ...(direct ? {} : { cpuMs: m.serverCpu * 1000 }), storeCpuMs: m.storeCpu * 1000, clientCpu: m.clientPct };
      } finally {
        await c?.quit();
      }
    },
  };
}

/** Small uploads one after another in one session. */
export function s3SmallUploads(opts: Options): Scenario {
  return {
    id: 's3-small-uploads',
    title: `S3: ${opts.s3SmallUploads} uploads of ${sizeLabel(opts.smallSize)} in one session`,
    tls: false,
    protocol: 's3',
    metrics: [
      { key: 'filesPerS', label: 'rate', unit: 'files/s', better: 'higher', digits: 0 },
      { key: 'cpuMsPerFile', label: 'front-end CPU', unit: 'ms/file', better: 'lower', digits: 2 },
      { key: 'storeCpuMsPerFile', label: 'S3 server CPU', unit: 'ms/file', better: 'lower', digits: 2 },
      CLIENT_CPU,
    ],
    applies: () => true,
    async run(ctx) {
      const s = await store(ctx);
      const direct = ctx.server.direct === true;
      const count = ctx.opts.s3SmallUploads;
      const key = (i: number) => `small-${ctx.spec.name}-${ctx.rep}-${process.pid}-${i}.dat`;
      const body = Buffer.alloc(ctx.opts.smallSize, 0x61);
      const c = direct ? null : await openSession(ctx, false);
      try {
        const m = await measureWithStore(ctx, s, async () => {
          for (let i = 0; i < count; i++) {
            if (c) await upload(c, `STOR ${s.incoming}/${key(i)}`, body.length, 30_000);
            else await sdkPut(s, `${s.prefix}/${s.incoming}/${key(i)}`, body);
          }
        });
        return {
          filesPerS: count / m.wall,
          ...(direct ? {} : { cpuMsPerFile: (m.serverCpu * 1000) / count }),
          storeCpuMsPerFile: (m.storeCpu * 1000) / count,
          clientCpu: m.clientPct,
        };
      } finally {
        await c?.quit();
        for (let i = 0; i < count; i++) await remove(s, `${s.prefix}/${s.incoming}/${key(i)}`);
      }
    },
  };
}

/** The S3 scenarios. */
export function s3Scenarios(opts: Options): Scenario[] {
  return [s3RetrBig(opts), s3StorBig(opts), s3List(opts), s3SmallUploads(opts)];
}
