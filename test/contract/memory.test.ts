/**
 * The Vfs contract against MemoryVfs, and what is particular to it: the
 * seed, the batch size of listings, the forced-off symlinks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryVfs, VfsError, vfsContractSuite } from '../../src/vfs/index.js';

vfsContractSuite('memory', () => Promise.resolve({ vfs: new MemoryVfs() }));

void test('MemoryVfs: the seed makes files, implicit parents and empty directories', async () => {
  const vfs = new MemoryVfs({ 'pub/hello.txt': 'hi\n', 'pub/bin/data': new Uint8Array([1, 2, 3]), 'incoming/': '' });
  assert.deepEqual((await vfs.stat('/pub/hello.txt')).size, 3);
  const h = await vfs.read('/pub/bin/data', 1);
  const chunks: Buffer[] = [];
  for await (const c of h.stream) chunks.push(c as Buffer);
  assert.deepEqual([...Buffer.concat(chunks)], [2, 3]);
  assert.equal((await vfs.stat('/incoming')).type, 'dir');
  const root: string[] = [];
  for await (const b of vfs.list('/')) root.push(...b.map((e) => `${e.name}:${e.type}:${e.mode.toString(8)}`));
  assert.deepEqual(root.sort(), ['incoming:dir:755', 'pub:dir:755']);
  assert.equal((await vfs.stat('/pub/hello.txt')).mode, 0o644);
  assert.throws(
    () => new MemoryVfs({ a: 'file', 'a/b': 'below a file' }),
    (err: unknown) => err instanceof VfsError && err.code === 'not-dir',
  );
});

void test('MemoryVfs: listings come in batches of at most 256, a snapshot of the call', async () => {
  const seed: Record<string, string> = {};
  for (let i = 0; i < 600; i++) seed[`d/f${i}`] = '';
  const vfs = new MemoryVfs(seed);
  const listing = vfs.list('/d');
  await vfs.remove('/d/f0');
  const sizes: number[] = [];
  for await (const b of listing) sizes.push(b.length);
  assert.deepEqual(sizes, [256, 256, 88]);
});

void test('MemoryVfs: symlinks stay off even when asked for', () => {
  const vfs = new MemoryVfs({}, { capabilities: { symlinks: true, append: false } });
  assert.deepEqual(vfs.capabilities, { setMtime: true, append: false, resumeUpload: true, symlinks: false });
});

void test('MemoryVfs: stored bytes are its own, whatever writers and readers do with their buffers', async () => {
  const vfs = new MemoryVfs();
  const up = await vfs.write('/f', { kind: 'replace' });
  const reused = Buffer.alloc(4);
  for (const ch of ['a', 'b', 'c']) {
    reused.fill(ch);
    await new Promise<void>((resolve, reject) => up.stream.write(reused, (err) => (err ? reject(err) : resolve())));
  }
  up.stream.end();
  await up.commit();
  const first = await vfs.read('/f', 0);
  for await (const c of first.stream) (c as Buffer).fill('z');
  const again: Buffer[] = [];
  for await (const c of (await vfs.read('/f', 0)).stream) again.push(c as Buffer);
  assert.equal(Buffer.concat(again).toString(), 'aaaabbbbcccc');
});

void test('MemoryVfs: an upload is single-use; commit after abort and twice are refused', async () => {
  const vfs = new MemoryVfs({ f: 'old' });
  const aborted = await vfs.write('/f', { kind: 'replace' });
  aborted.stream.write('new');
  await aborted.abort();
  await assert.rejects(aborted.commit(), (err: unknown) => err instanceof VfsError && err.code === 'io');
  const done = await vfs.write('/f', { kind: 'replace' });
  done.stream.end('new');
  await done.commit();
  await assert.rejects(done.commit(), (err: unknown) => err instanceof VfsError && err.code === 'io');
  await done.abort();
  const chunks: Buffer[] = [];
  for await (const c of (await vfs.read('/f', 0)).stream) chunks.push(c as Buffer);
  assert.equal(Buffer.concat(chunks).toString(), 'new');
});
