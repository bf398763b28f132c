/**
 * Listings through the native addon (native/list.c) against the
 * JavaScript path of the listing worker: the same entries, in the same
 * order, with the same columns, on a directory with every kind of entry
 * the worker treats apart. The worker takes the native path where the
 * addon loads in its thread, and the JavaScript path with WHARF_NATIVE=0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { lstatSync, readdirSync, utimesSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import { nativeAddon, type NativeListBatch } from '../../src/vfs/local/native.js';
import { TEMP_PREFIX } from '../../src/vfs/local/jail.js';
import type { ListBatch, ListReply, ListRequest } from '../../src/vfs/local/listWorker.js';
import { startServer } from '../helpers/server.js';
import { RawSession, readAll } from '../helpers/raw.js';

const WORKER = new URL('../../src/vfs/local/listWorker.js', import.meta.url);

/** Fills `root/list` with every kind of entry; returns that directory. */
async function fixture(root: string, outside: string): Promise<string> {
  const d = join(root, 'list');
  await mkdir(join(d, 'sub', 'deeper'), { recursive: true });
  await writeFile(join(d, 'plain.txt'), 'hello');
  await writeFile(join(d, 'ünï côdé 🚢.txt'), 'utf-8');
  await writeFile(join(d, `${TEMP_PREFIX}upload`), 'partial');
  await mkdir(join(d, `${TEMP_PREFIX}dir`));
  await writeFile(join(d, 'a\ufffd'), 'the name a bad byte decodes to');
  await writeFile(Buffer.from(`${d}/a\xff`, 'latin1'), 'not UTF-8'); // decodes to the name above
  await writeFile(Buffer.from(`${d}/b\xc3`, 'latin1'), 'not UTF-8, nothing under its decoded name');
  await writeFile(Buffer.from(`${d}/c\xed\xa0\x80`, 'latin1'), 'a surrogate in UTF-8');
  await writeFile(join(d, 'sub-ms.bin'), Buffer.alloc(1234));
  utimesSync(join(d, 'sub-ms.bin'), 1_700_000_000.123456, 1_700_000_000.987654);
  await writeFile(join(outside, 'secret.txt'), 'outside');
  await symlink('plain.txt', join(d, 'link-in'));
  await symlink('sub', join(d, 'link-dir'));
  await symlink(join(outside, 'secret.txt'), join(d, 'link-out'));
  await symlink(outside, join(d, 'link-out-dir'));
  await symlink('nowhere', join(d, 'link-broken'));
  await symlink('link-loop', join(d, 'link-loop'));
  const fifo = spawnSync('mkfifo', [join(d, 'fifo')]);
  assert.equal(fifo.status, 0, 'mkfifo');
  for (let i = 0; i < 40; i++) await writeFile(join(d, `f${i}`), 'x'.repeat(i));
  return d;
}

/** Every entry of `path` through a listing worker, `batch` at a time, as rows of its columns. */
async function viaWorker(path: string, root: string, batch: number, env: NodeJS.ProcessEnv): Promise<unknown[]> {
  const w = new Worker(WORKER, { env });
  try {
    const rows: unknown[] = [];
    let settle: { resolve: (r: ListReply) => void; reject: (err: Error) => void } | null = null;
    w.on('message', (r: ListReply) => settle?.resolve(r));
    w.on('error', (err) => settle?.reject(err));
    const ask = (msg: ListRequest) =>
      new Promise<ListReply>((resolve, reject) => {
        settle = { resolve, reject };
        w.postMessage(msg);
      });
    w.postMessage({ op: 'open', id: 1, path, root, batch } satisfies ListRequest);
    for (;;) {
      const r = await ask({ op: 'next', id: 1 });
      if ('error' in r) return [r.error];
      if (!r.batch) return rows;
      assert.ok(r.batch.count > 0 && r.batch.count <= batch);
      rows.push(...columnsToRows(r.batch));
    }
  } finally {
    await w.terminate();
  }
}

function columnsToRows(b: ListBatch | NativeListBatch): unknown[] {
  const names = b.names.split('\0');
  const uniques = b.uniques.split('\0');
  assert.equal(names.length, b.count);
  assert.equal(uniques.length, b.count);
  return names.map((name, i) => [name, b.types[i], b.sizes[i], b.mtimes[i], b.modes[i], uniques[i]]);
}

async function tree(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-list-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'root'));
  await mkdir(join(dir, 'outside'));
  return { root: join(dir, 'root'), list: await fixture(join(dir, 'root'), join(dir, 'outside')) };
}

test('the addon loads in a worker thread and has the batch listing', async () => {
  assert.ok(nativeAddon, 'the native addon is not built');
  const src = `import('${new URL('../../src/vfs/local/native.js', import.meta.url).href}').then((m) => require('node:worker_threads').parentPort.postMessage(typeof m.nativeAddon?.listNext))`;
  const w = new Worker(src, { eval: true });
  const seen = await new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  await w.terminate();
  assert.equal(seen, 'function');
});

test('listNext: columns as lstat gives them, links and names not valid UTF-8 left to the caller, temp names and . .. never', async (t) => {
  assert.ok(nativeAddon, 'the native addon is not built');
  const { list } = await tree(t);
  const h = nativeAddon.listOpen(list, TEMP_PREFIX);
  assert.equal(typeof h, 'object');
  if (typeof h === 'number') return;
  const rows: unknown[][] = [];
  let deferred = 0;
  for (let b = nativeAddon.listNext(h, 7); b; b = nativeAddon.listNext(h, 7)) {
    assert.equal(typeof b, 'object');
    if (typeof b === 'number') return;
    assert.ok(b.count <= 7);
    deferred += b.deferred;
    rows.push(...(columnsToRows(b) as unknown[][]));
  }
  nativeAddon.listClose(h);
  assert.equal(nativeAddon.listNext(h, 7), -9); // EBADF: closed
  nativeAddon.listClose(h); // twice is harmless
  const names = rows.map((r) => r[0] as string);
  assert.ok(!names.some((n) => n.startsWith(TEMP_PREFIX) || n === '.' || n === '..'));
  assert.equal(rows.length, 40 + 15);
  const marked = rows.filter((r) => r[1] === 2).map((r) => r[0]);
  assert.deepEqual(marked.sort(), ['a\ufffd', 'b\ufffd', 'c\ufffd\ufffd\ufffd', 'link-broken', 'link-dir', 'link-in', 'link-loop', 'link-out', 'link-out-dir'].sort());
  assert.equal(deferred, marked.length);
  for (const [name, type, size, mtime, mode, unique] of rows) {
    if (type === 2) {
      assert.deepEqual([size, mtime, mode, unique], [0, 0, 0, '']);
      continue;
    }
    const st = lstatSync(join(list, name as string));
    const want = st.isDirectory() ? 1 : st.isFile() ? 0 : 3;
    assert.deepEqual(
      [type, size, mtime, mode, unique],
      [want, want === 1 ? 4096 : st.size, st.mtimeMs, st.mode & 0o7777, `${st.dev.toString(16)}.${st.ino.toString(16)}`],
      name as string,
    );
  }
  assert.equal(rows.find((r) => r[0] === 'fifo')?.[1], 3);
  assert.equal(rows.find((r) => r[0] === 'sub-ms.bin')?.[3], lstatSync(join(list, 'sub-ms.bin')).mtimeMs);
  assert.notEqual((rows.find((r) => r[0] === 'sub-ms.bin')?.[3] as number) % 1, 0); // sub-millisecond kept
});

test('listOpen and listNext give -errno, never a throw', async (t) => {
  assert.ok(nativeAddon, 'the native addon is not built');
  const { list } = await tree(t);
  assert.equal(nativeAddon.listOpen(join(list, 'nope'), TEMP_PREFIX), -2); // ENOENT
  assert.equal(nativeAddon.listOpen(join(list, 'plain.txt'), TEMP_PREFIX), -20); // ENOTDIR
  assert.equal(nativeAddon.listNext({} as never, 5), -22); // EINVAL: not a listing
});

test('a listing dropped without listClose is closed by the garbage collector', async (t) => {
  assert.ok(nativeAddon, 'the native addon is not built');
  const { list } = await tree(t);
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const fds = () => readdirSync('/proc/self/fd').length;
  const before = fds();
  const addon = nativeAddon;
  (() => {
    for (let i = 0; i < 20; i++) assert.equal(typeof addon.listOpen(list, TEMP_PREFIX), 'object');
  })();
  assert.ok(fds() >= before + 20);
  for (let i = 0; i < 5 && fds() > before; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.ok(fds() <= before, `${fds() - before} descriptors still open`);
});

test('the listing worker: native and JavaScript paths give the same entries, in order, at any batch size', async (t) => {
  const { root, list } = await tree(t);
  for (const batch of [1, 3, 1024]) {
    const native = await viaWorker(list, root, batch, process.env);
    const js = await viaWorker(list, root, batch, { ...process.env, WHARF_NATIVE: '0' });
    assert.deepEqual(native, js, `batch ${batch}`);
    assert.equal(native.length, 40 + 9, `batch ${batch}`); // not listed: the temp names, the links out, broken or looping, b\xc3 and c\xed\xa0\x80
  }
  for (const bad of [join(list, 'nope'), join(list, 'plain.txt')]) {
    assert.deepEqual(await viaWorker(bad, root, 8, process.env), await viaWorker(bad, root, 8, { ...process.env, WHARF_NATIVE: '0' }));
  }
  assert.deepEqual(await viaWorker(join(list, 'nope'), root, 8, process.env), ['ENOENT']);
});

test(
  'the listing worker: EACCES on the directory or on its entries, as on the JavaScript path (run as a user other than root)',
  { skip: process.getuid?.() === 0 ? 'root reads any directory' : false },
  async (t) => {
    const { root, list } = await tree(t);
    await chmod(join(list, 'sub'), 0o000);
    try {
      assert.deepEqual(await viaWorker(join(list, 'sub'), root, 8, process.env), ['EACCES']);
      assert.deepEqual(await viaWorker(join(list, 'sub'), root, 8, { ...process.env, WHARF_NATIVE: '0' }), ['EACCES']);
      await chmod(join(list, 'sub'), 0o444); // readable, not searchable: the names come, their stats fail
      assert.deepEqual(await viaWorker(join(list, 'sub'), root, 8, process.env), ['EACCES']);
      assert.deepEqual(await viaWorker(join(list, 'sub'), root, 8, { ...process.env, WHARF_NATIVE: '0' }), ['EACCES']);
    } finally {
      await chmod(join(list, 'sub'), 0o755); // before the tree is removed
    }
  },
);

/** LIST, MLSD and NLST of /list on a server, as bytes. */
async function listings(port: number): Promise<string[]> {
  const s = await RawSession.open(port);
  try {
    await s.login();
    const out: string[] = [];
    for (const cmd of ['LIST /list', 'MLSD /list', 'NLST /list', 'LIST /list/sub']) {
      const data = await s.passive();
      assert.equal((await s.cmd(cmd)).code, 150);
      out.push((await readAll(data)).toString('latin1'));
      assert.equal((await s.read())?.code, 226);
    }
    return out;
  } finally {
    await s.cmd('QUIT');
    s.close();
  }
}

test('FTP LIST, MLSD and NLST are byte for byte the same with the addon and with WHARF_NATIVE=0', async (t) => {
  const native = await startServer();
  t.after(() => native.close());
  const outside = await mkdtemp(join(tmpdir(), 'wharf-out-'));
  t.after(() => rm(outside, { recursive: true, force: true }));
  await fixture(native.root, outside);
  const a = await listings(native.port); // its listing worker now runs, with the addon
  const saved = process.env.WHARF_NATIVE;
  process.env.WHARF_NATIVE = '0'; // read by the next listing worker as it starts
  try {
    const js = await startServer({ anonymous: { root: native.root } });
    t.after(() => js.close());
    const b = await listings(js.port);
    assert.deepEqual(a, b);
    assert.match(a[0] as string, / plain\.txt\r\n/);
    assert.match(a[0] as string, /^p.* fifo\r$/m);
    assert.doesNotMatch(a[0] as string, /link-out|link-broken|wharf-up/);
  } finally {
    if (saved === undefined) delete process.env.WHARF_NATIVE;
    else process.env.WHARF_NATIVE = saved;
  }
});
