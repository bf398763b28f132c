/**
 * An S3-compatible server for the tests: s3rver (npm devDependency) run by
 * test/helpers/s3rverMain.ts in a child process on 127.0.0.1, port 0, with
 * a temporary data directory and one bucket. Start it in a file's `before`
 * and stop it in `after`: the child and its pipes then predate (and
 * outlive) each test's leak check. Every wait is bounded.
 *
 * Besides the endpoint, it offers what the tests check S3 with: an SDK
 * client, every key under a prefix, the unfinished multipart uploads
 * (ListMultipartUploads), and the `[storage.s3]` section for a config.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { S3Settings } from '../../src/vfs/s3/client.js';

// The AWS SDK warns once per process that its releases after January 2027 need Node 22 (as `wharf` does, the tests silence it).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** s3rver's built-in account. */
const ACCESS_KEY = 'S3RVER';
const SECRET_KEY = 'S3RVER';

/** A running test S3 server. */
export interface S3Server {
  endpoint: string;
  port: number;
  bucket: string;
  /** s3rver's data directory. */
  dir: string;
  /** Settings for an S3Vfs or the `[storage.s3]` section. */
  settings: S3Settings;
  /** The `[storage.s3]` section of a TOML config. */
  toml(extra?: string): string;
  /** The section as a config object (`{ storage: { s3: {...} } }`). */
  configObject(extra?: Record<string, unknown>): { storage: { s3: Record<string, unknown> } };
  /** A client of its own (closed by `stop`). */
  client: S3Client;
  /** Every key under `prefix`, sorted. */
  keys(prefix?: string): Promise<string[]>;
  /** The unfinished multipart uploads under `prefix`. */
  uploads(prefix?: string): Promise<{ key: string; uploadId: string }[]>;
  /**
   * Makes objects `dirKey + name` holding `body`, written into s3rver's
   * store directly in its layout (`KEY._S3rver_object` and its `.md5`) as
   * hard links to a few files: thousands in a second or two, where as many
   * PutObjects take minutes on a busy machine. They list, read and delete
   * like any object.
   */
  seed(dirKey: string, names: readonly string[], body?: string): void;
  /** Stops the server and removes its data. */
  stop(): Promise<void>;
}

const OBJECT_SUFFIX = '._S3rver_object';

/** See S3Server.seed. */
function seedStore(dir: string, bucket: string, dirKey: string, names: readonly string[], body: string): void {
  const target = join(dir, bucket, ...dirKey.split('/').filter(Boolean));
  mkdirSync(target, { recursive: true });
  // File systems cap the links to one file (ext4: 65,000): a source per 50,000.
  const sources: string[] = [];
  for (let i = 0; i < Math.ceil(names.length / 50_000); i++) {
    const source = join(dir, `seed-${randomBytes(6).toString('hex')}`);
    writeFileSync(source, body);
    writeFileSync(`${source}.md5`, createHash('md5').update(body).digest('hex'));
    sources.push(source);
  }
  // Synchronous: a link is a few microseconds, a round trip through libuv's thread pool many more.
  names.forEach((name, i) => {
    const source = sources[Math.floor(i / 50_000)] as string;
    const file = join(target, name + OBJECT_SUFFIX);
    linkSync(source, file);
    linkSync(`${source}.md5`, `${file}.md5`);
  });
}

const MAIN = fileURLToPath(new URL('./s3rverMain.js', import.meta.url));

/** Waits for the `{"port":N}` line (at most `ms`). */
function portOf(child: ChildProcessWithoutNullStreams, ms: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => fail(new Error(`s3rver did not start within ${ms} ms: ${err}`)), ms);
    const fail = (e: Error) => {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      reject(e);
    };
    const onData = (d: string) => {
      out += d;
      const m = /\{"port":(\d+)\}\n/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.off('exit', onExit);
      resolve(Number(m[1]));
    };
    const onExit = (code: number | null) => fail(new Error(`s3rver exited (${code}) before listening: ${err}`));
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (err += d));
    child.stdout.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Ends the child: stdin closed and SIGTERM, then SIGKILL if it has not exited within `ms`. */
async function end(child: ChildProcessWithoutNullStreams, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    if (!child.stdout.closed) await new Promise((r) => child.once('close', r));
    return;
  }
  const closed = new Promise((r) => child.once('close', r));
  child.stdin.end();
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  await closed;
  clearTimeout(timer);
}

/** Starts s3rver with one bucket, storing under `baseDir` (default: the temporary directory). */
export async function startS3(bucket = 'wharf-test', baseDir = tmpdir()): Promise<S3Server> {
  const dir = await mkdtemp(join(baseDir, 'wharf-s3rver-'));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', MAIN, dir, bucket], { stdio: ['pipe', 'pipe', 'pipe'] });
  let port: number;
  try {
    port = await portOf(child, 15_000);
  } catch (err) {
    await end(child, 2_000);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  child.stdout.resume();
  const endpoint = `http://127.0.0.1:${port}`;
  const settings: S3Settings = { endpoint, region: 'us-east-1', forcePathStyle: true, accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY };
  // No keep-alive: the helper's requests leave no socket open for a test's leak check to find.
  const client = new S3Client({
    requestHandler: { httpAgent: new Agent({ keepAlive: false }) },
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const section = { endpoint, region: 'us-east-1', force_path_style: true, access_key_id: ACCESS_KEY, secret_access_key: SECRET_KEY };
  return {
    endpoint,
    port,
    bucket,
    dir,
    settings,
    client,
    toml: (extra = '') =>
      `[storage.s3]\nendpoint = "${endpoint}"\nregion = "us-east-1"\nforce_path_style = true\naccess_key_id = "${ACCESS_KEY}"\nsecret_access_key = "${SECRET_KEY}"\n${extra}`,
    configObject: (extra = {}) => ({ storage: { s3: { ...section, ...extra } } }),
    async keys(prefix = '') {
      const out: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        out.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return out.sort();
    },
    async uploads(prefix = '') {
      const page = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
      return (page.Uploads ?? []).map((u) => ({ key: u.Key ?? '', uploadId: u.UploadId ?? '' }));
    },
    seed: (dirKey, names, body = 'seed') => seedStore(dir, bucket, dirKey, names, body),
    async stop() {
      client.destroy();
      await end(child, 5_000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** 1 MiB. */
export const MiB = 1024 * 1024;

/**
 * Config overrides for startServer() that put the anonymous root at
 * `s3://BUCKET/PREFIX/pub` (with the `incoming` drop box) and alice's home
 * (password `secret`, every permission) at `s3://BUCKET/PREFIX/alice`,
 * with 5 MiB parts (S3's smallest) unless `s3` says otherwise.
 */
export function s3Overrides(s3: S3Server, prefix: string, hash: string, s3Extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...s3.configObject({ part_size: 5 * MiB, ...s3Extra }),
    anonymous: { enabled: true, root: `s3://${s3.bucket}/${prefix}/pub`, upload_dir: 'incoming' },
    users: [{ name: 'alice', password: hash, home: `s3://${s3.bucket}/${prefix}/alice`, permissions: ['*'] }],
  };
}
