import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { hashPassword } from '../../src/auth/password.js';
import { bytes, curl, describe, sha256 } from '../helpers/clients.js';

const names = (out: Buffer) => out.toString().split(/\r?\n/).filter(Boolean);

const BIN = resolve(import.meta.dirname, '../../../bin/wharf.js');

async function serve(t: { after(fn: () => unknown): void }, toml: string): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-mem-'));
  const cfg = join(dir, 'wharf.toml');
  await writeFile(cfg, toml);
  const child = spawn(process.execPath, [BIN, 'serve', '--config', cfg, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(async () => {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });
  child.stdout.setEncoding('utf8');
  let out = '';
  return new Promise<number>((res, rej) => {
    child.stdout.on('data', (d: string) => {
      out += d;
      const m = /wharf listening on ftp:\/\/127\.0\.0\.1:(\d+)\n/.exec(out);
      if (m) res(Number(m[1]));
    });
    child.once('exit', (code) => rej(new Error(`exited early (${code}): ${out}`)));
  });
}

test('serve: a user whose home is memory: takes uploads from curl and serves them back byte-exact', async (t) => {
  const hash = await hashPassword('pw');
  const port = await serve(t, `[server]\nhost = "127.0.0.1"\n\n[[users]]\nname = "mem"\npassword = "${hash}"\nhome = "memory:"\n`);
  const dir = await mkdtemp(join(tmpdir(), 'wharf-mem-data-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const payload = bytes(3 * 1024 * 1024 + 17, 9);
  await writeFile(join(dir, 'big.bin'), payload);
  let r = await curl(['-u', 'mem:pw', '-T', join(dir, 'big.bin'), '--ftp-create-dirs', `ftp://127.0.0.1:${port}/sub/big.bin`]);
  assert.equal(r.code, 0, describe(r));
  r = await curl(['-u', 'mem:pw', `ftp://127.0.0.1:${port}/sub/big.bin`]);
  assert.equal(r.code, 0, describe(r));
  assert.equal(sha256(r.stdout), sha256(payload));
  r = await curl(['-u', 'mem:pw', '-l', `ftp://127.0.0.1:${port}/sub/`]);
  assert.deepEqual(names(r.stdout), ['big.bin']);
  // Resume (REST + STOR) and append work on memory: too.
  r = await curl(['-u', 'mem:pw', '-a', '-T', '-', `ftp://127.0.0.1:${port}/sub/big.bin`], { input: 'tail' });
  assert.equal(r.code, 0, describe(r));
  r = await curl(['-u', 'mem:pw', `ftp://127.0.0.1:${port}/sub/big.bin`]);
  assert.equal(sha256(r.stdout), sha256(Buffer.concat([payload, Buffer.from('tail')])));
});

test('serve: an anonymous root of memory: lists empty, and its drop box takes new files only', async (t) => {
  const port = await serve(t, `[server]\nhost = "127.0.0.1"\n\n[anonymous]\nroot = "memory:"\nupload_dir = "incoming"\n`);
  let r = await curl(['-l', `ftp://127.0.0.1:${port}/`]);
  assert.equal(r.code, 0, describe(r));
  assert.deepEqual(names(r.stdout), ['incoming']);
  r = await curl(['-T', '-', `ftp://127.0.0.1:${port}/incoming/note.txt`], { input: 'hello' });
  assert.equal(r.code, 0, describe(r));
  r = await curl(['-T', '-', `ftp://127.0.0.1:${port}/incoming/note.txt`], { input: 'again' });
  assert.notEqual(r.code, 0, 'overwriting in the drop box must fail');
  r = await curl([`ftp://127.0.0.1:${port}/incoming/note.txt`]);
  assert.notEqual(r.code, 0, 'downloading from the drop box must fail');
  r = await curl(['-T', '-', `ftp://127.0.0.1:${port}/elsewhere.txt`], { input: 'x' });
  assert.notEqual(r.code, 0, 'uploading outside the drop box must fail');
});

test('check-config refuses unknown storage URLs with one line', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-mem-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const cfg = join(dir, 'bad.toml');
  await writeFile(cfg, `[anonymous]\nroot = "ftp://elsewhere/"\n`);
  let r = spawnSync(process.execPath, [BIN, 'check-config', '--config', cfg], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^wharf: .*anonymous\.root: "ftp:\/\/elsewhere\/" is neither a directory nor a storage URL Wharf knows \(memory:, s3:\/\/BUCKET\/PREFIX\)\n$/);
  await writeFile(cfg, `[anonymous]\nroot = "s3://bucket/pub"\n`);
  r = spawnSync(process.execPath, [BIN, 'check-config', '--config', cfg], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /anonymous\.root: s3:\/\/ storage needs the \[storage\.s3\] section/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  await writeFile(cfg, `[anonymous]\nroot = "memory:"\n`);
  r = spawnSync(process.execPath, [BIN, 'check-config', '--config', cfg], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

test('wharf --version prints the package version', async () => {
  const r = spawnSync(process.execPath, [BIN, '--version'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  const { version } = JSON.parse(await (await import('node:fs/promises')).readFile(resolve(import.meta.dirname, '../../../package.json'), 'utf8')) as { version: string };
  assert.equal(r.stdout.trim(), version);
});
