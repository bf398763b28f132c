/**
 * Full scale on S3, against `wharf serve` in a process of its own whose
 * memory is read from /proc (VmHWM, the peak resident size, before and
 * after): a prefix of 100,000 objects listed through FTP with LIST and
 * MLSD (curl), every entry once, streamed page by page; and a 1 GiB
 * upload in 5 MiB parts streamed from a generator (never held anywhere),
 * byte-exact by sha256 of what S3 stored. The server runs with a heap of
 * HEAP_MIB at most (holding either whole would kill it), and in both its
 * peak memory grows by a bounded amount.
 *
 * The 100,000 objects are made in s3rver's store directly (S3Server.seed:
 * its layout, hard links to one object and one digest): a few seconds, where 100,000 PutObjects
 * take minutes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Client } from 'basic-ftp';
import { curl, describe, tempDir } from '../helpers/clients.js';
import { secretHash } from '../helpers/server.js';
import { MiB, startS3, type S3Server } from '../helpers/s3.js';

const BIN = path.resolve(import.meta.dirname, '../../../bin/wharf.js');
const OBJECTS = 100_000;
const GiB = 1024 * MiB;
const HEAP_MIB = 128;

let s3: S3Server;
let tmp: { dir: string; cleanup: () => Promise<void> };

const name = (i: number) => `obj-${String(i).padStart(6, '0')}.dat`;

before(async () => {
  // In memory where there is a tmpfs: the 1 GiB upload's parts and object (2 GiB at the peak) are written at RAM speed.
  s3 = await startS3('wharf-scale', existsSync('/dev/shm') ? '/dev/shm' : undefined);
  tmp = await tempDir('wharf-s3-scale-');
});

after(async () => {
  await s3.stop();
  await tmp.cleanup();
});

/** Peak and current resident size of a process, KiB. */
async function memory(pid: number): Promise<{ hwm: number; rss: number }> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { hwm: kib('VmHWM'), rss: kib('VmRSS') };
}

/** `wharf serve` on a config; resolves once it listens. */
async function serve(config: string): Promise<{ child: ChildProcess; port: number; stop: () => Promise<void> }> {
  // A heap of 128 MiB at most: a server that held the listing or the file whole would die of it.
  const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_MIB}`, BIN, 'serve', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4000)));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`wharf serve did not listen within 20 s: ${err}`)), 20_000);
      child.stdout?.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const m = /listening on ftp:\/\/[^:]+:(\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`wharf serve exited (${code}): ${err}`));
      });
    });
    return { child, port, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function config(file: string, body: string): Promise<string> {
  const p = path.join(tmp.dir, file);
  await fs.writeFile(p, `[server]\nport = 0\n[log]\nlevel = "warn"\n${body}\n${s3.toml(`part_size = ${5 * MiB}\nupload_concurrency = 4\n`)}`);
  return p;
}

test(`LIST and MLSD of ${OBJECTS.toLocaleString('en')} objects: every entry once, server memory bounded`, { timeout: 180_000 }, async (t) => {
  const t0 = performance.now();
  s3.seed(
    'scale/pub/many/',
    Array.from({ length: OBJECTS }, (_, i) => name(i)),
    'abc',
  );
  t.diagnostic(`seeded ${OBJECTS} objects in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const srv = await serve(await config('list.toml', `[anonymous]\nenabled = true\nroot = "s3://${s3.bucket}/scale/pub"`));
  t.after(srv.stop);
  const pid = srv.child.pid as number;
  const url = `ftp://127.0.0.1:${srv.port}/many/`;
  // Warm-up: code paths, the S3 client's connections.
  let r = await curl(['-sS', `ftp://127.0.0.1:${srv.port}/`]);
  assert.equal(r.code, 0, describe(r));
  const before = await memory(pid);
  for (const command of ['LIST', 'MLSD']) {
    const t1 = performance.now();
    r = await curl(['-sS', ...(command === 'MLSD' ? ['-X', 'MLSD'] : []), url], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, describe(r));
    const lines = r.stdout
      .toString('utf8')
      .split(/\r?\n/)
      .filter((l) => l !== '' && !l.startsWith('type=cdir;'));
    assert.equal(lines.length, OBJECTS, `${command} lines`);
    const names = lines.map((l) => (command === 'MLSD' ? l.slice(l.indexOf(' ') + 1) : l.slice(l.lastIndexOf(' ') + 1)));
    assert.equal(new Set(names).size, OBJECTS, `${command}: every name once`);
    assert.equal(names[0], name(0));
    assert.equal(names.at(-1), name(OBJECTS - 1));
    if (command === 'MLSD') assert.match(lines[1] as string, /^type=file;size=3;modify=\d{14};/);
    else assert.match(lines[1] as string, /^-rw-r--r-- .* 3 \w{3} [ \d]\d .+ obj-000001\.dat$/);
    t.diagnostic(`${command}: ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  }
  const after = await memory(pid);
  const growthMiB = (after.hwm - before.hwm) / 1024;
  t.diagnostic(`server peak RSS ${(before.hwm / 1024).toFixed(0)} -> ${(after.hwm / 1024).toFixed(0)} MiB (+${growthMiB.toFixed(1)})`);
  // Held whole, the listing would be 6-9 MiB of text and several times that as entries and S3 pages;
  // streamed, what grows is the garbage of pages of 1,000 that V8 collects lazily.
  assert.ok(growthMiB < 64, `server peak memory grew by ${growthMiB.toFixed(1)} MiB`);
});

/** 1 GiB of generated bytes in 1 MiB chunks, hashed as they go out. */
function* generated(total: number, hash: ReturnType<typeof createHash>): Generator<Buffer> {
  const chunk = Buffer.alloc(MiB);
  for (let off = 0, n = 0; off < total; off += chunk.length, n++) {
    chunk.writeUInt32BE(n, 0);
    for (let i = 4; i < chunk.length; i += 4096) chunk[i] = (n * 31 + i) & 255;
    const piece = off + chunk.length <= total ? chunk : chunk.subarray(0, total - off);
    hash.update(piece);
    yield Buffer.from(piece);
  }
}

test('a 1 GiB upload in 5 MiB parts, streamed from a generator: byte-exact, server memory bounded', { timeout: 180_000 }, async (t) => {
  const srv = await serve(
    await config('upload.toml', `[[users]]\nname = "alice"\npassword = "${await secretHash()}"\nhome = "s3://${s3.bucket}/scale/alice"\npermissions = ["*"]`),
  );
  t.after(srv.stop);
  const pid = srv.child.pid as number;
  const client = new Client(60_000);
  t.after(() => client.close());
  await client.access({ host: '127.0.0.1', port: srv.port, user: 'alice', password: 'secret' });
  await client.uploadFrom(Readable.from([Buffer.from('warm-up')]), 'warm.txt');
  const before = await memory(pid);
  const hash = createHash('sha256');
  const t0 = performance.now();
  await client.uploadFrom(Readable.from(generated(GiB, hash)), 'big.bin');
  const seconds = (performance.now() - t0) / 1000;
  const after = await memory(pid);
  const growthMiB = (after.hwm - before.hwm) / 1024;
  t.diagnostic(
    `1 GiB in ${seconds.toFixed(1)} s (${(1024 / seconds).toFixed(0)} MiB/s); server peak RSS ${(before.hwm / 1024).toFixed(0)} -> ${(after.hwm / 1024).toFixed(0)} MiB (+${growthMiB.toFixed(1)})`,
  );
  assert.equal(await client.size('big.bin'), GiB);
  assert.deepEqual(await s3.uploads('scale/'), [], 'the multipart upload completed');
  // What S3 stored, read from s3rver's store (hashing it there is faster than a 1 GiB download).
  const stored = createHash('sha256');
  for await (const chunk of createReadStream(path.join(s3.dir, s3.bucket, 'scale', 'alice', 'big.bin._S3rver_object'))) stored.update(chunk as Buffer);
  assert.equal(stored.digest('hex'), hash.digest('hex'));
  // At most (upload_concurrency + 1) parts of 5 MiB are held at once; sent parts are freed when V8 collects
  // (lazily: the peak grows by a few times the live set). Held whole, the file would add 1 GiB.
  assert.ok(growthMiB < 96, `server peak memory grew by ${growthMiB.toFixed(1)} MiB`);
});
