/**
 * The S3 bucket through SFTP and HTTP front-ends (`wharf-s3`'s `[sftp]`
 * and web view, `rclone serve sftp` and `rclone serve http`), with the
 * SFTP and HTTP scenarios' clients, and the same work done straight with
 * the AWS SDK (`s3-sdk`, the ceiling), as in scenarios/s3.ts:
 *
 * - `s3-sftp-get-big` / `s3-sftp-put-big`: OpenSSH `sftp -b` downloading
 *   the big object to /dev/null / uploading the big file into `incoming/`
 *   (login included, as in `sftp-get-big`; SDK: GetObject / a multipart
 *   upload, 4 parts in flight). The download is checked once by fetching
 *   the client file to disk; the upload by the stored object's size.
 * - `s3-sftp-list-N`: the listing of the prefix of N objects, with the
 *   ssh2 client logged in beforehand (opendir, READDIR until EOF, close;
 *   SDK: ListObjectsV2 pages).
 * - `s3-sftp-small-uploads`: small files uploaded one after another in one
 *   ssh2 session, each OPEN, one WRITE, CLOSE (SDK: one PutObject each).
 * - `s3-http-get-big`: GET of the big object (curl, or the raw client as
 *   in `http-get-big`; SDK: GetObject).
 * - `s3-http-dir-N`: the page of the prefix of N objects, over and over
 *   on one kept-alive connection, time-boxed; the first page (not
 *   measured) is checked to link every object (SDK: the listing, as
 *   often).
 *
 * Each reports the front-end's CPU and the store's. Uploads are deleted
 * afterwards.
 */
import path from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { NAMES } from '../dataset.js';
import { httpGet, type HttpResult } from '../http/client.js';
import type { Options } from '../options.js';
import type { S3Store } from '../s3/store.js';
import { openSftpSession, runSftp } from '../sftpClient.js';
import { CLIENT_CPU, GiB, MB, percentile, sizeLabel, type Ctx, type Metrics, type Scenario } from './common.js';
import { checkFile, curlGet, pageLoop, target as httpTarget } from './http.js';
import { measureWithStore, remove, sdkGet, sdkList, sdkMultipart, sdkPut, store, THROUGHPUT } from './s3.js';
import { checkDownload, target as sftpTarget } from './sftp.js';

/** Throughput metrics from a measured transfer of `bytes`; the SDK has no front-end CPU. */
function throughput(ctx: Ctx, bytes: number, m: { wall: number; serverCpu: number; storeCpu: number; clientPct: number }): Metrics {
  const gib = bytes / GiB;
  return { mbps: bytes / MB / m.wall, ...(ctx.server.direct ? {} : { cpuPerGiB: m.serverCpu / gib }), storeCpuPerGiB: m.storeCpu / gib, clientCpu: m.clientPct };
}

/** The stored size of an object. */
async function objectSize(s: S3Store, key: string): Promise<number> {
  const head = await s.client.send(new HeadObjectCommand({ Bucket: s.bucket, Key: key }));
  return head.ContentLength ?? -1;
}

/** SFTP download of the big object (OpenSSH sftp to /dev/null, login included). */
export function s3SftpGetBig(opts: Options): Scenario {
  return {
    id: 's3-sftp-get-big',
    title: `S3 over SFTP: download ${sizeLabel(opts.bigBytes)} (OpenSSH sftp, login included)`,
    tls: false,
    protocol: 's3-sftp',
    metrics: THROUGHPUT,
    applies: () => true,
    async run(ctx) {
      const s = await store(ctx);
      const t = ctx.server.direct ? null : sftpTarget(ctx);
      if (t) await checkDownload(ctx, t);
      const m = await measureWithStore(
        ctx,
        s,
        async () => {
          if (!t) return sdkGet(s, `${s.prefix}/${s.big}`);
          await runSftp(t, [`get ${s.big} /dev/null`], ctx.opts.clientCpu, ctx.opts.transferTimeoutMs);
          return ctx.opts.bigBytes;
        },
        true,
      );
      if (m.result !== ctx.opts.bigBytes) throw new Error(`short GetObject: ${m.result} of ${ctx.opts.bigBytes} bytes`);
      return throughput(ctx, ctx.opts.bigBytes, m);
    },
  };
}

/** SFTP upload of the big file into incoming/ (OpenSSH sftp, login included). */
export function s3SftpPutBig(opts: Options): Scenario {
  return {
    id: 's3-sftp-put-big',
    title: `S3 over SFTP: upload ${sizeLabel(opts.bigBytes)} (OpenSSH sftp, login included; ${sizeLabel(opts.s3PartBytes)} parts)`,
    tls: false,
    protocol: 's3-sftp',
    metrics: THROUGHPUT,
    applies: () => true,
    async run(ctx) {
      const s = await store(ctx);
      const t = ctx.server.direct ? null : sftpTarget(ctx);
      const name = `sftp-up-${ctx.spec.name}-${ctx.rep}-${process.pid}.bin`;
      const key = `${s.prefix}/${s.incoming}/${name}`;
      const source = path.join(ctx.dataset.root, NAMES.big);
      try {
        const m = await measureWithStore(
          ctx,
          s,
          async () => {
            if (t) await runSftp(t, [`put ${source} ${s.incoming}/${name}`], ctx.opts.clientCpu, ctx.opts.transferTimeoutMs);
            else await sdkMultipart(s, key, ctx.opts.bigBytes, ctx.opts.s3PartBytes);
          },
          true,
        );
        const size = await objectSize(s, key);
        if (size !== ctx.opts.bigBytes) throw new Error(`short SFTP upload: ${size} of ${ctx.opts.bigBytes} bytes stored`);
        return throughput(ctx, size, m);
      } finally {
        await remove(s, key);
      }
    },
  };
}

/** The listing of the prefix of N objects through SFTP (the ssh2 client, logged in beforehand). */
export function s3SftpList(opts: Options): Scenario {
  const n = opts.s3ListSize;
  return {
    id: `s3-sftp-list-${n}`,
    title: `S3 over SFTP: listing of ${n.toLocaleString('en')} objects (ssh2 client, login not measured)`,
    tls: false,
    protocol: 's3-sftp',
    metrics: [
      { key: 'seconds', label: 'time', unit: 's', better: 'lower', digits: 3 },
      { key: 'cpuMs', label: 'front-end CPU', unit: 'ms', better: 'lower', digits: 0 },
      { key: 'storeCpuMs', label: 'S3 server CPU', unit: 'ms', better: 'lower', digits: 0 },
      CLIENT_CPU,
    ],
    applies: () => true,
    async run(ctx) {
      const s = await store(ctx);
      const session = ctx.server.direct ? null : await openSftpSession(sftpTarget(ctx), 15_000);
      try {
        const m = await measureWithStore(ctx, s, async () => {
          if (!session) return sdkList(s, `${s.prefix}/${s.listDir(n)}/`);
          return (await session.list(s.listDir(n))).filter((name) => name.startsWith('obj-')).length;
        });
        if (m.result < n) throw new Error(`the listing returned ${m.result} objects of ${n}`);
        return { seconds: m.wall, ...(session ? { cpuMs: m.serverCpu * 1000 } : {}), storeCpuMs: m.storeCpu * 1000, clientCpu: m.clientPct };
      } finally {
        await session?.close();
      }
    },
  };
}

/** Small uploads one after another in one SFTP session (the ssh2 client, logged in beforehand). */
export function s3SftpSmallUploads(opts: Options): Scenario {
  return {
    id: 's3-sftp-small-uploads',
    title: `S3 over SFTP: ${opts.s3SmallUploads} uploads of ${sizeLabel(opts.smallSize)} in one session (ssh2 client)`,
    tls: false,
    protocol: 's3-sftp',
    metrics: [
      { key: 'filesPerS', label: 'rate', unit: 'files/s', better: 'higher', digits: 0 },
      { key: 'cpuMsPerFile', label: 'front-end CPU', unit: 'ms/file', better: 'lower', digits: 2 },
      { key: 'storeCpuMsPerFile', label: 'S3 server CPU', unit: 'ms/file', better: 'lower', digits: 2 },
      CLIENT_CPU,
    ],
    applies: () => true,
    async run(ctx) {
      const s = await store(ctx);
      const count = ctx.opts.s3SmallUploads;
      const name = (i: number) => `sftp-small-${ctx.spec.name}-${ctx.rep}-${process.pid}-${i}.dat`;
      const body = Buffer.alloc(ctx.opts.smallSize, 0x61);
      const session = ctx.server.direct ? null : await openSftpSession(sftpTarget(ctx), 15_000);
      try {
        const m = await measureWithStore(ctx, s, async () => {
          for (let i = 0; i < count; i++) {
            if (session) await session.put(`${s.incoming}/${name(i)}`, body);
            else await sdkPut(s, `${s.prefix}/${s.incoming}/${name(i)}`, body);
          }
        });
        const size = await objectSize(s, `${s.prefix}/${s.incoming}/${name(count - 1)}`);
        if (size !== body.length) throw new Error(`the last upload stored ${size} of ${body.length} bytes`);
        return {
          filesPerS: count / m.wall,
          ...(session ? { cpuMsPerFile: (m.serverCpu * 1000) / count } : {}),
          storeCpuMsPerFile: (m.storeCpu * 1000) / count,
          clientCpu: m.clientPct,
        };
      } finally {
        await session?.close();
        for (let i = 0; i < count; i++) await remove(s, `${s.prefix}/${s.incoming}/${name(i)}`);
      }
    },
  };
}

/** HTTP GET of the big object (curl, or the raw client). */
export function s3HttpGetBig(opts: Options): Scenario {
  const client = opts.httpClient === 'curl' ? 'curl -o /dev/null, process start included' : 'raw Node client, connect included';
  return {
    id: 's3-http-get-big',
    title: `S3 over HTTP: GET ${sizeLabel(opts.bigBytes)} (${client})`,
    tls: false,
    protocol: 's3-http',
    metrics: THROUGHPUT,
    applies: () => true,
    async run(ctx) {
      const s = await store(ctx);
      const size = ctx.opts.bigBytes;
      const timeoutMs = ctx.opts.transferTimeoutMs;
      const get = async (): Promise<HttpResult | number> => {
        if (ctx.server.direct) return sdkGet(s, `${s.prefix}/${s.big}`);
        const t = httpTarget(ctx);
        if (ctx.opts.httpClient === 'curl') return curlGet(`http://${t.host}:${t.port}/${s.big}`, ctx.opts.clientCpu, timeoutMs);
        return httpGet(t.host, t.port, `/${s.big}`, { timeoutMs });
      };
      const m = await measureWithStore(ctx, s, get, true);
      if (typeof m.result === 'number') {
        if (m.result !== size) throw new Error(`short GetObject: ${m.result} of ${size} bytes`);
      } else checkFile(m.result, size, `GET /${s.big}`);
      return throughput(ctx, size, m);
    },
  };
}

/** The SDK's side of the directory page: the listing, over and over (time-boxed like the pages). */
async function sdkListings(ctx: Ctx, s: S3Store, n: number): Promise<Metrics> {
  const prefix = `${s.prefix}/${s.listDir(n)}/`;
  if ((await sdkList(s, prefix)) < n) throw new Error(`the listing returned fewer than ${n} objects`);
  const deadline = performance.now() + ctx.opts.budgetSeconds * 1000;
  const times: number[] = [];
  const m = await measureWithStore(ctx, s, async () => {
    for (let i = 0; i < ctx.opts.httpDirRequests && performance.now() < deadline; i++) {
      const t0 = performance.now();
      await sdkList(s, prefix);
      times.push(performance.now() - t0);
    }
  });
  const pages = times.length;
  return { msPerPage: (m.wall * 1000) / pages, p99Ms: percentile(times, 99), storeCpuMsPerPage: (m.storeCpu * 1000) / pages, pages, clientCpu: m.clientPct };
}

/** The HTML page of the prefix of N objects, over and over on one kept-alive connection (time-boxed). */
export function s3HttpDirPage(opts: Options): Scenario {
  const n = opts.s3ListSize;
  return {
    id: `s3-http-dir-${n}`,
    title: `S3 over HTTP: directory page of ${n.toLocaleString('en')} objects, up to ${opts.httpDirRequests} GETs on one kept-alive connection`,
    tls: false,
    protocol: 's3-http',
    metrics: [
      { key: 'msPerPage', label: 'time per page', unit: 'ms', better: 'lower', digits: 1 },
      { key: 'p99Ms', label: 'page time p99', unit: 'ms', better: 'lower', digits: 1 },
      { key: 'cpuMsPerPage', label: 'front-end CPU', unit: 'ms/page', better: 'lower', digits: 1 },
      { key: 'storeCpuMsPerPage', label: 'S3 server CPU', unit: 'ms/page', better: 'lower', digits: 1 },
      { key: 'pageKiB', label: 'page size', unit: 'KiB', better: 'lower', digits: 0 },
      { key: 'pages', label: 'pages fetched', unit: 'pages', better: 'higher', digits: 0 },
      CLIENT_CPU,
    ],
    applies: () => true,
    async run(ctx) {
      const s = await store(ctx);
      if (ctx.server.direct) return sdkListings(ctx, s, n);
      const loop = await pageLoop(ctx, httpTarget(ctx), `/${s.listDir(n)}/`, n, 'obj-', (fn) => measureWithStore(ctx, s, fn));
      const { measured: m, times, bytes, reconnects } = loop;
      const pages = times.length;
      return {
        msPerPage: (m.wall * 1000) / pages,
        p99Ms: percentile(times, 99),
        cpuMsPerPage: (m.serverCpu * 1000) / pages,
        storeCpuMsPerPage: (m.storeCpu * 1000) / pages,
        pageKiB: bytes / pages / 1024,
        pages,
        clientCpu: m.clientPct,
        ...(reconnects > 0 ? { reconnects } : {}),
      };
    },
  };
}

/** The S3 scenarios through SFTP and HTTP, in the order they run. */
export function s3FrontScenarios(opts: Options): Scenario[] {
  return [s3SftpGetBig(opts), s3SftpPutBig(opts), s3SftpList(opts), s3SftpSmallUploads(opts), s3HttpGetBig(opts), s3HttpDirPage(opts)];
}
