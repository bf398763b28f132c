/**
 * A fleet on object storage: three `wharf serve` nodes (separate
 * processes on 127.0.0.21-23) sharing one S3 bucket (the tests' s3rver) and
 * one redis-server. A file uploaded through one node is served byte-exact
 * by the others at once (no cache between them); a node SIGKILLed in the
 * middle of an upload leaves no object under the final name, the others
 * keep serving, and its unfinished multipart upload is aborted when it
 * starts again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { secretHash } from '../helpers/server.js';
import { startRedis } from '../helpers/redis.js';
import { MiB, startS3, type S3Server } from '../helpers/s3.js';
import { deferrals, spawnServe, uniquePrefix, until, type ServeProcess } from '../helpers/fleet.js';
import { bytes, curl, describe, sha256, tempDir } from '../helpers/clients.js';

/** One node's config: its own address, the shared bucket prefix and Redis. */
function nodeConfig(s3: S3Server, host: string, prefix: string, redisUrl: string, hash: string): string {
  return [
    '[server]',
    `host = "${host}"`,
    'port = 0',
    '[anonymous]',
    'enabled = true',
    `root = "s3://${s3.bucket}/${prefix}/pub"`,
    '[[users]]',
    'name = "alice"',
    `password = "${hash}"`,
    `home = "s3://${s3.bucket}/${prefix}/alice"`,
    'permissions = ["*"]',
    '[state]',
    `redis = "${redisUrl}"`,
    `key_prefix = "${prefix}"`,
    '[log]',
    'level = "warn"',
    s3.toml(`part_size = ${5 * MiB}\n`),
  ].join('\n');
}

test('three nodes on one bucket: an upload through one is served by all; a node killed mid-upload leaves no object, and its multipart is aborted when it returns', async (t) => {
  const defer = deferrals(t);
  const { dir, cleanup } = await tempDir('wharf-fleet-s3-');
  defer(cleanup);
  const s3 = await startS3('wharf-fleet');
  defer(() => s3.stop());
  const redis = await startRedis();
  defer(() => redis.close());
  const prefix = uniquePrefix();
  const hash = await secretHash();
  const nodes: ServeProcess[] = [];
  const configs: string[] = [];
  for (const i of [1, 2, 3]) {
    const file = join(dir, `node${i}.toml`);
    await writeFile(file, nodeConfig(s3, `127.0.0.2${i}`, prefix, redis.url, hash));
    configs.push(file);
    const node = await spawnServe(file);
    defer(() => node.kill());
    nodes.push(node);
  }
  const url = (i: number, name: string) => `ftp://alice:secret@127.0.0.2${i + 1}:${nodes[i]!.port('ftp')}/${name}`;

  // Through node 1, downloaded from 2 and 3 at once.
  const payload = bytes(3 * MiB + 17, 5);
  await writeFile(join(dir, 'report.bin'), payload);
  const up = await curl(['-T', join(dir, 'report.bin'), url(0, 'report.bin')]);
  assert.equal(up.code, 0, describe(up));
  for (const i of [1, 2]) {
    const got = await curl([url(i, 'report.bin')]);
    assert.equal(got.code, 0, describe(got));
    assert.equal(sha256(got.stdout), sha256(payload), `node ${i + 1} serves the upload byte-exact`);
  }

  // Node 2 dies (SIGKILL) while a slow upload runs through it.
  const big = spawn('curl', ['-sS', '--noproxy', '*', '--limit-rate', '2M', '-T', '-', url(1, 'big.bin')], { stdio: ['pipe', 'ignore', 'ignore'] });
  defer(() => big.kill('SIGKILL'));
  big.stdin.on('error', () => undefined);
  big.stdin.write(bytes(40 * MiB, 6));
  big.stdin.end();
  // Killed as soon as S3 has the multipart upload: the node's registry entry is written before the upload is
  // created, and may or may not hold the upload's id yet; recovery handles both.
  await until(async () => (await s3.uploads(`${prefix}/alice/`)).length > 0, 20_000, 'the multipart upload to start');
  await nodes[1]!.kill('SIGKILL');
  assert.deepEqual(
    (await s3.keys(`${prefix}/alice/`)).filter((k) => k.includes('big.bin')),
    [],
    'no object under the final name',
  );
  assert.equal((await s3.uploads(`${prefix}/alice/`)).length, 1, 'the dead node left its multipart upload');
  // The others go on serving.
  for (const i of [0, 2]) {
    const got = await curl([url(i, 'report.bin')]);
    assert.equal(sha256(got.stdout), sha256(payload), describe(got));
  }
  // Node 2 back: at start it aborts the multipart uploads of this machine's dead processes.
  const again = await spawnServe(configs[1]!);
  defer(() => again.kill());
  await until(async () => (await s3.uploads(`${prefix}/alice/`)).length === 0, 20_000, 'the leftover multipart upload to be aborted');
  assert.deepEqual(await s3.keys(`${prefix}/alice/`), [`${prefix}/alice/report.bin`]);
});
