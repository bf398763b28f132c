/**
 * The S3 server of the S3 scenarios: s3rver run by the tests' launcher
 * (dist/test/helpers/s3rverMain.js, which adds what s3rver lacks and lists
 * a prefix page by page) on loopback, pinned to `BENCH_S3_CPU` (default:
 * the load generator's core, so the server's core stays Wharf's alone),
 * started once per run the first time an S3 server needs it and stopped
 * at the end. Every server under test and the direct-SDK ceiling use the
 * same bucket and the same objects:
 *
 * - `pub/big.bin`: the dataset's big file;
 * - `pub/client.bin`: the dataset's client file (BENCH_CLIENT_MIB), which
 *   the SFTP download scenarios fetch to disk once to check sizes;
 * - `pub/listN/obj-NNNNNN.dat`: N objects of 4 bytes (BENCH_S3_LIST);
 * - `pub/incoming/`: where uploads go (removed after each scenario).
 *
 * The objects are written into s3rver's store directly, in its layout
 * (`KEY._S3rver_object` and its `.md5`), the many small ones as hard
 * links: 10,000 PutObjects would take minutes here.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, linkSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { NAMES } from '../dataset.js';
import { readOptions } from '../options.js';

// The AWS SDK warns once per process that its releases after January 2027 need Node 22 (as `wharf` does, the bench silences it).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');
const MAIN = path.join(REPO, 'dist', 'test', 'helpers', 's3rverMain.js');

/** s3rver's built-in account. */
export const S3_KEY = 'S3RVER';

/** The running store. */
export interface S3Store {
  endpoint: string;
  bucket: string;
  /** The served prefix (`pub`): the roots of the FTP servers. */
  prefix: string;
  /** The s3rver process (its CPU is reported beside each server's). */
  pid: number;
  /** A client for the direct-SDK ceiling and clean-ups (keep-alive, as a server's would be). */
  client: S3Client;
  /** Names inside the prefix. */
  big: string;
  /** The client file (fetched to disk by the SFTP download scenarios' check). */
  clientFile: string;
  listDir: (n: number) => string;
  incoming: string;
  stop(): Promise<void>;
}

let running: Promise<S3Store> | null = null;

/** The S3 store of this run, started (and filled) on first use under `base`. */
export function s3Store(base: string, bigFile: string): Promise<S3Store> {
  running ??= start(base, bigFile);
  return running;
}

/** Stops the store if one was started. */
export async function stopS3Store(): Promise<void> {
  const store = running ? await running.catch(() => null) : null;
  running = null;
  await store?.stop();
}

const OBJECT = '._S3rver_object';

/** Copies a file into the store as the object `key`, with its MD5 (the ETag). */
async function putFileObject(bucketDir: string, key: string, file: string): Promise<void> {
  const target = path.join(bucketDir, ...key.split('/')) + OBJECT;
  await mkdir(path.dirname(target), { recursive: true });
  const md5 = createHash('md5');
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      md5.update(chunk);
      cb(null, chunk);
    },
  });
  await pipeline(createReadStream(file), tap, createWriteStream(target));
  await writeFile(`${target}.md5`, md5.digest('hex'));
}

/** `count` objects of 4 bytes under `dirKey`, as hard links to a few files (file systems cap links per file). */
async function putManyObjects(bucketDir: string, scratch: string, dirKey: string, count: number): Promise<void> {
  const dir = path.join(bucketDir, ...dirKey.split('/'));
  await mkdir(dir, { recursive: true });
  const perSource = 50_000;
  const sources: string[] = [];
  for (let i = 0; i < Math.ceil(count / perSource); i++) {
    const s = path.join(scratch, `object-${i}`);
    await writeFile(s, 'data');
    await writeFile(`${s}.md5`, createHash('md5').update('data').digest('hex'));
    sources.push(s);
  }
  for (let i = 0; i < count; i++) {
    const source = sources[Math.floor(i / perSource)] as string;
    const file = path.join(dir, `obj-${String(i).padStart(6, '0')}.dat${OBJECT}`);
    linkSync(source, file);
    linkSync(`${source}.md5`, `${file}.md5`);
  }
}

/** Waits for the launcher's `{"port":N}` line (at most 20 s). */
function portOf(child: ChildProcessWithoutNullStreams): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`the S3 server did not start within 20 s: ${err}`)), 20_000);
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-2000)));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /\{"port":(\d+)\}/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the S3 server exited (${code}): ${err}`));
    });
  });
}

async function start(base: string, bigFile: string): Promise<S3Store> {
  const opts = readOptions();
  const dir = path.join(base, 's3store');
  const bucket = 'bench';
  const prefix = 'pub';
  const bucketDir = path.join(dir, bucket);
  await mkdir(bucketDir, { recursive: true });
  const listDir = (n: number) => `list${n}`;
  await putFileObject(bucketDir, `${prefix}/${NAMES.big}`, bigFile);
  await putFileObject(bucketDir, `${prefix}/${NAMES.client}`, path.join(path.dirname(bigFile), NAMES.client));
  await putManyObjects(bucketDir, dir, `${prefix}/${listDir(opts.s3ListSize)}`, opts.s3ListSize);
  await mkdir(path.join(bucketDir, prefix, NAMES.incoming), { recursive: true });
  await writeFile(path.join(bucketDir, prefix, NAMES.incoming, OBJECT), '');
  await writeFile(path.join(bucketDir, prefix, NAMES.incoming, `${OBJECT}.md5`), createHash('md5').digest('hex'));
  // stdin stays open: the launcher exits when it closes, so it never outlives the bench.
  const child = spawn('taskset', ['-c', opts.s3Cpu, process.execPath, '--openssl-legacy-provider', MAIN, dir, bucket], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  const port = await portOf(child).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  child.stdout.resume();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: S3_KEY, secretAccessKey: S3_KEY },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: 16 }) },
  });
  // One unmeasured pass over the listed prefix: the first listing after a start reads the store's directory
  // and the objects' digests from disk, and would be charged to whichever server is measured first.
  let token: string | undefined;
  for (let pages = 0; pages < 100_000; pages++) {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/${listDir(opts.s3ListSize)}/`, Delimiter: '/', ContinuationToken: token }));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
    if (!token) break;
  }
  return {
    endpoint,
    bucket,
    prefix,
    pid: child.pid as number,
    client,
    big: NAMES.big,
    clientFile: NAMES.client,
    listDir,
    incoming: NAMES.incoming,
    async stop() {
      client.destroy();
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.stdin.end();
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
