import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, symlink, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveVirtualPath, BadPathError, isWithin, parentOf, baseName } from '../../src/vfs/path.js';
import { LocalVfs } from '../../src/vfs/local/localVfs.js';
import { VfsError } from '../../src/vfs/errors.js';

test('virtual path resolution: a table of hostile paths stays inside /', () => {
  const table: [string, string, string][] = [
    ['/', '..', '/'],
    ['/', '../../../../etc/passwd', '/etc/passwd'],
    ['/pub', '../..', '/'],
    ['/pub', '/../../etc', '/etc'],
    ['/pub', '..\\..\\windows', '/windows'],
    ['/pub', '\\..\\..\\x', '/x'],
    ['/pub', './a/./b/../c', '/pub/a/c'],
    ['/pub', '//double//slash//', '/double/slash'],
    ['/pub', '...', '/pub/...'],
    ['/pub', '.. ', '/pub/.. '],
    ['/a/b', '', '/a/b'],
    ['/a/b', '.', '/a/b'],
    ['/', 'dir with spaces/fïlé', '/dir with spaces/fïlé'],
  ];
  for (const [cwd, arg, expected] of table) assert.equal(resolveVirtualPath(cwd, arg), expected, `${cwd} + ${arg}`);
  for (const bad of ['a\0b', '\0', 'x\r\nDELE y', 'tab\there']) {
    assert.throws(() => resolveVirtualPath('/', bad), BadPathError, JSON.stringify(bad));
  }
});

test('path helpers', () => {
  assert.equal(isWithin('/pub/x', '/pub'), true);
  assert.equal(isWithin('/pubx', '/pub'), false);
  assert.equal(isWithin('/anything', '/'), true);
  assert.equal(parentOf('/a/b'), '/a');
  assert.equal(parentOf('/a'), '/');
  assert.equal(baseName('/a/b'), 'b');
});

test('LocalVfs: symlinks that point outside the root are unreachable', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-jail-'));
  after(() => rm(dir, { recursive: true, force: true }));
  const root = join(dir, 'root');
  const outside = join(dir, 'outside');
  await mkdir(join(root, 'inside'), { recursive: true });
  await mkdir(outside);
  await writeFile(join(outside, 'secret'), 'top secret');
  await writeFile(join(root, 'inside', 'ok.txt'), 'fine');
  await symlink(outside, join(root, 'escape-dir'));
  await symlink(join(outside, 'secret'), join(root, 'escape-file'));
  await symlink('../outside/secret', join(root, 'relative-escape'));
  await symlink('inside/ok.txt', join(root, 'good-link'));
  await symlink('escape-dir', join(root, 'chain'));
  const vfs = await LocalVfs.open(root);
  const notFound = (p: Promise<unknown>) => assert.rejects(p, (e: unknown) => e instanceof VfsError && (e.code === 'not-found' || e.code === 'denied'));
  for (const p of ['/escape-dir', '/escape-dir/secret', '/escape-file', '/relative-escape', '/chain/secret']) {
    await notFound(vfs.stat(p));
    await notFound(vfs.read(p, 0));
  }
  await notFound(vfs.write('/escape-dir/new', { kind: 'replace' }));
  await notFound(vfs.mkdir('/chain/newdir'));
  await notFound(
    (async () => {
      for await (const _ of vfs.list('/escape-dir')) void _;
    })(),
  );
  // The escaping links are not listed at all; the good one is, as a file.
  const names: string[] = [];
  for await (const batch of vfs.list('/')) for (const e of batch) names.push(`${e.name}:${e.type}`);
  assert.deepEqual(names.sort(), ['good-link:file', 'inside:dir']);
  const { stream, stat } = await vfs.read('/good-link', 0);
  assert.equal(stat.size, 4);
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  assert.equal(Buffer.concat(chunks).toString(), 'fine');
  assert.equal(await readFile(join(outside, 'secret'), 'utf8'), 'top secret');
});

test('LocalVfs: an upload is invisible until committed and an aborted one leaves the old file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-atomic-'));
  after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'f.txt'), 'original');
  const vfs = await LocalVfs.open(dir);
  const up = await vfs.write('/f.txt', { kind: 'replace' });
  await new Promise<void>((resolve) => up.stream.write('partial', () => resolve()));
  assert.equal(await readFile(join(dir, 'f.txt'), 'utf8'), 'original');
  const listed: string[] = [];
  for await (const b of vfs.list('/')) for (const e of b) listed.push(e.name);
  assert.deepEqual(listed, ['f.txt']);
  await up.abort();
  assert.equal(await readFile(join(dir, 'f.txt'), 'utf8'), 'original');
  const up2 = await vfs.write('/f.txt', { kind: 'offset', offset: 4 });
  await new Promise<void>((resolve) => up2.stream.end('ABCDEFGH', () => resolve()));
  await up2.commit();
  assert.equal(await readFile(join(dir, 'f.txt'), 'utf8'), 'origABCDEFGH');
  const up3 = await vfs.write('/f.txt', { kind: 'append' });
  await new Promise<void>((resolve) => up3.stream.end('+', () => resolve()));
  await up3.commit();
  assert.equal(await readFile(join(dir, 'f.txt'), 'utf8'), 'origABCDEFGH+');
  await assert.rejects(vfs.write('/f.txt', { kind: 'create-new' }), (e: unknown) => e instanceof VfsError && e.code === 'exists');
  await assert.rejects(vfs.write('/f.txt', { kind: 'offset', offset: 1000 }), (e: unknown) => e instanceof VfsError && e.code === 'bad-offset');
  const { readdir } = await import('node:fs/promises');
  assert.deepEqual(await readdir(dir), ['f.txt']);
});

test('LocalVfs with keepPartialUploads writes in place, so an interrupted upload can be resumed', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-partial-'));
  after(() => rm(dir, { recursive: true, force: true }));
  const vfs = await LocalVfs.open(dir, { keepPartialUploads: true });
  const first = await vfs.write('/big.bin', { kind: 'replace' });
  await new Promise<void>((resolve) => first.stream.write('half', () => resolve()));
  first.stream.end();
  await new Promise<void>((resolve) => first.stream.once('finish', () => resolve()));
  await first.abort();
  assert.equal(await readFile(join(dir, 'big.bin'), 'utf8'), 'half');
  const resume = await vfs.write('/big.bin', { kind: 'offset', offset: 4 });
  await new Promise<void>((resolve) => resume.stream.end(' and the rest', () => resolve()));
  await resume.commit();
  assert.equal(await readFile(join(dir, 'big.bin'), 'utf8'), 'half and the rest');
  const more = await vfs.write('/big.bin', { kind: 'append' });
  await new Promise<void>((resolve) => more.stream.end('!', () => resolve()));
  await more.commit();
  assert.equal(await readFile(join(dir, 'big.bin'), 'utf8'), 'half and the rest!');
  const { readdir } = await import('node:fs/promises');
  assert.deepEqual(await readdir(dir), ['big.bin']);
});
