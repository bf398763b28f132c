/**
 * The native addon's openCached (native/open.c): opens a file whose whole
 * path is in the kernel's dentry cache without the thread pool, and says
 * EAGAIN (never blocks) when it is not. LocalVfs.read uses it first and
 * falls back to a thread-pool open; the jail's check of where the
 * descriptor leads is the same either way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, readSync, statSync, writeSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nativeAddon } from '../../src/vfs/local/native.js';
import { LocalVfs } from '../../src/vfs/local/localVfs.js';
import { VfsError } from '../../src/vfs/errors.js';

async function tree(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-open-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'root', 'sub'), { recursive: true });
  await writeFile(join(dir, 'root', 'sub', 'a.txt'), 'hello');
  await writeFile(join(dir, 'outside.txt'), 'secret');
  await symlink(join(dir, 'outside.txt'), join(dir, 'root', 'escape.txt'));
  return dir;
}

test('openCached opens a cached path read-only, and gives -errno (not a throw) for a missing one or a bad argument', async (t) => {
  assert.ok(nativeAddon, 'the native addon is not built');
  const dir = await tree(t);
  const path = join(dir, 'root', 'sub', 'a.txt');
  statSync(path); // every component of the path is now in the kernel's cache
  const fd = nativeAddon.openCached(path);
  assert.ok(fd >= 0, `openCached gave ${fd}`);
  try {
    const buf = Buffer.alloc(16);
    assert.equal(buf.subarray(0, readSync(fd, buf, 0, 16, 0)).toString(), 'hello');
    assert.throws(() => writeSync(fd, 'x'), /EBADF/); // read-only
  } finally {
    closeSync(fd);
  }
  const missing = nativeAddon.openCached(join(dir, 'root', 'sub', 'nope.txt'));
  assert.ok(missing === -2 || missing === -11, `missing file: ${missing}`); // ENOENT, or EAGAIN when the negative entry is not cached
  assert.equal(nativeAddon.openCached('a\0b'), -36); // ENAMETOOLONG: a NUL inside is refused, never truncated
});

test('LocalVfs.read through the cached open: byte-exact, a symlink out of the root is still refused, a directory is is-dir', async (t) => {
  const dir = await tree(t);
  const vfs = await LocalVfs.open(join(dir, 'root'));
  for (let i = 0; i < 2; i++) {
    const h = await vfs.read('/sub/a.txt', 1);
    assert.equal(h.stat.size, 5);
    const chunks: Buffer[] = [];
    for await (const c of h.stream) chunks.push(c as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), 'ello');
  }
  await assert.rejects(vfs.read('/escape.txt', 0), (err: unknown) => err instanceof VfsError && err.code === 'not-found');
  await assert.rejects(vfs.read('/sub', 0), (err: unknown) => err instanceof VfsError && err.code === 'is-dir');
  await assert.rejects(vfs.read('/sub/nope.txt', 0), (err: unknown) => err instanceof VfsError && err.code === 'not-found');
  await assert.rejects(vfs.read('/sub/a.txt', 6), (err: unknown) => err instanceof VfsError && err.code === 'bad-offset');
});
