/**
 * `wharf check-config` and `wharf serve` with `s3://` roots: a malformed
 * URL and a missing `[storage.s3]` are refused by both, an unreachable
 * endpoint, a missing bucket and refused credentials by `serve` (which
 * checks the bucket at start); each with exit code 2 and one line. A good
 * config serves the bucket.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import path from 'node:path';
import { resolve } from 'node:path';
import { curl, describe, tempDir } from '../helpers/clients.js';
import { startS3, type S3Server } from '../helpers/s3.js';

const BIN = resolve(import.meta.dirname, '../../../bin/wharf.js');

let s3: S3Server;
let dir: string;
let cleanup: () => Promise<void>;

before(async () => {
  s3 = await startS3('wharf-cli');
  ({ dir, cleanup } = await tempDir('wharf-s3-cli-'));
});

after(async () => {
  await s3.stop();
  await cleanup();
});

/** Runs the CLI on a config text; stderr's lines and the exit code. */
async function cli(command: 'check-config' | 'serve', toml: string): Promise<{ code: number | null; lines: string[]; stderr: string }> {
  const file = path.join(dir, `${command}-${Math.random().toString(16).slice(2)}.toml`);
  await fs.writeFile(file, toml);
  const args = command === 'serve' ? ['serve', '--config', file, '--port', '0'] : ['check-config', '--config', file];
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, lines: r.stderr.split('\n').filter(Boolean), stderr: r.stderr };
}

const section = (over: Record<string, string> = {}) =>
  Object.entries({
    endpoint: `"${s3.endpoint}"`,
    region: '"us-east-1"',
    force_path_style: 'true',
    access_key_id: '"S3RVER"',
    secret_access_key: '"S3RVER"',
    ...over,
  })
    .map(([k, v]) => `${k} = ${v}`)
    .join('\n');

test('check-config and serve: a malformed s3:// URL, one line, exit 2', async () => {
  for (const command of ['check-config', 'serve'] as const) {
    for (const [url, why] of [
      ['s3://Bad_Bucket/pub', /is not a valid bucket name/],
      ['s3://bucket/a/../b', /may not contain empty, "\." or "\.\." segments/],
      ['s3:/bucket', /is not an s3:\/\/ URL/],
    ] as const) {
      const r = await cli(command, `[anonymous]\nroot = "${url}"\n[storage.s3]\n${section()}\n`);
      assert.equal(r.code, 2, `${command} ${url}: ${r.stderr}`);
      assert.equal(r.lines.length, 1, r.stderr);
      assert.match(r.lines[0]!, /^wharf: .*anonymous\.root: /);
      assert.match(r.lines[0]!, why);
    }
  }
});

test('check-config and serve: s3:// without [storage.s3], one line, exit 2', async () => {
  for (const command of ['check-config', 'serve'] as const) {
    const r = await cli(command, `[[users]]\nname = "bob"\npassword = "$scrypt$ln=15,r=8,p=1$c2FsdA$aGFzaA"\nhome = "s3://${s3.bucket}/bob"\n`);
    assert.equal(r.code, 2, r.stderr);
    assert.deepEqual(r.lines.length, 1, r.stderr);
    assert.match(r.lines[0]!, /users\[0\]\.home: s3:\/\/ storage needs the \[storage\.s3\] section/);
  }
});

test('serve checks the bucket at start: unreachable endpoint, missing bucket, refused credentials', async () => {
  const cases: [string, string, RegExp][] = [
    [s3.bucket, section({ endpoint: '"http://127.0.0.1:1"' }), /anonymous\.root: cannot reach the S3 endpoint \(ECONNREFUSED\): check storage\.s3\.endpoint$/],
    ['no-such-bucket', section(), /anonymous\.root: bucket "no-such-bucket" does not exist$/],
    [s3.bucket, section({ access_key_id: '"WRONGKEY"', secret_access_key: '"nope-not-this-one"' }), /the S3 credentials were refused \(InvalidAccessKeyId\)/],
  ];
  for (const [bucket, s3section, why] of cases) {
    const toml = `[anonymous]\nroot = "s3://${bucket}/pub"\n[storage.s3]\n${s3section}\n`;
    assert.equal((await cli('check-config', toml)).code, 0, 'check-config does not reach the network');
    const r = await cli('serve', toml);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.lines.length, 1, r.stderr);
    assert.match(r.lines[0]!, why);
    assert.doesNotMatch(r.stderr, /nope-not-this-one|S3RVER|at .*\.js/, 'no secret, no stack');
  }
});

test('serve: an s3:// anonymous root serves the bucket; SIGTERM exits 0', async (t) => {
  const file = path.join(dir, 'good.toml');
  await fs.writeFile(file, `[server]\nhost = "127.0.0.1"\n[anonymous]\nroot = "s3://${s3.bucket}/good"\n[storage.s3]\n${section()}\n`);
  await s3.client.send(new (await import('@aws-sdk/client-s3')).PutObjectCommand({ Bucket: s3.bucket, Key: 'good/readme.txt', Body: Buffer.from('from s3\n'), ContentLength: 8 }));
  const child = spawn(process.execPath, [BIN, 'serve', '--config', file, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => void child.kill('SIGKILL'));
  let out = '';
  child.stdout.setEncoding('utf8');
  const port = await new Promise<number>((res, rej) => {
    child.stdout.on('data', (d: string) => {
      out += d;
      const m = /wharf listening on ftp:\/\/127\.0\.0\.1:(\d+)\n/.exec(out);
      if (m) res(Number(m[1]));
    });
    child.once('exit', (code) => rej(new Error(`exited early (${code}): ${out}`)));
  });
  const r = await curl([`ftp://127.0.0.1:${port}/readme.txt`]);
  assert.equal(r.stdout.toString(), 'from s3\n', describe(r));
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  assert.equal(code, 0);
});
