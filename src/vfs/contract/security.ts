/**
 * Contract tests of the jail: hostile client paths (resolved with
 * resolveVirtualPath first, as the server does) stay inside the root,
 * unusual names round-trip, symlinks that lead outside are refused
 * without revealing what is there, and errors name no host path.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { baseName, parentOf, resolveVirtualPath } from '../path.js';
import type { Vfs } from '../types.js';
import type { CaseContext, ContractCase } from './index.js';
import { assertContent, listAll, namesIn, putFile, readAll } from './files.js';

/** What a ContractTarget's `outside` place holds in `secret.txt`. */
export const OUTSIDE_SECRET = 'wharf contract suite: outside secret 7d1f\n';

/** Creates every missing directory above `path` through the Vfs. */
async function mkdirs(vfs: Vfs, path: string): Promise<void> {
  const segs = parentOf(path).split('/').filter(Boolean);
  let dir = '';
  for (const seg of segs) {
    dir += '/' + seg;
    await vfs.mkdir(dir).catch(() => undefined);
  }
}

const ODD_NAMES = [
  'with space.txt',
  ' leading space',
  'trailing space ',
  'fïlé ünïcødé 日本語.txt',
  'emoji 😀.bin',
  'percent %2e%2e%2f %00 %.txt',
  "single 'quote'.txt",
  'double "quote".txt',
  '...',
  '.. x',
  'semi;colon & pipe|star*?',
  '-rf',
  '#hash',
];

/** Every Vfs operation on a path behind a link that leads outside: all refused. */
async function assertRefusedOutside(c: CaseContext, base: string): Promise<void> {
  const { vfs, fails } = c;
  const refused = ['not-found', 'denied'] as const;
  const errors = [
    await fails(vfs.stat(base), refused, `stat ${base}`),
    await fails(vfs.stat(`${base}/secret.txt`), refused, 'stat through the link'),
    await fails(vfs.read(`${base}/secret.txt`, 0), refused, 'read through the link'),
    await fails(listAll(vfs, base), refused, 'list the link'),
    await fails(listAll(vfs, `${base}/sub`), refused, 'list through the link'),
    await fails(putFile(vfs, `${base}/planted.txt`, 'planted'), refused, 'write through the link'),
    await fails(putFile(vfs, `${base}/secret.txt`, 'overwritten'), refused, 'overwrite through the link'),
    await fails(vfs.mkdir(`${base}/newdir`), refused, 'mkdir through the link'),
    await fails(vfs.rmdir(`${base}/sub`), refused, 'rmdir through the link'),
    await fails(vfs.remove(`${base}/secret.txt`), refused, 'remove through the link'),
    await fails(vfs.rename(`${base}/secret.txt`, '/stolen.txt'), refused, 'rename out of the link'),
    await fails(vfs.rename('/real/f.txt', `${base}/f.txt`), refused, 'rename into the link'),
    await fails(vfs.setMtime(`${base}/secret.txt`, new Date(0)), ['not-found', 'denied', 'unsupported'], 'setMtime through the link'),
  ];
  for (const err of errors) assert.ok(!String(err).includes(OUTSIDE_SECRET.trim()) && !String(err).includes('secret.txt'), 'an error reveals the outside');
}

/** The security tests, in order. */
export const SECURITY_CASES: readonly ContractCase[] = [
  [
    'hostile paths resolve inside the root and stay there',
    async ({ vfs, fails }) => {
      const tag = randomBytes(4).toString('hex');
      await vfs.mkdir('/pub');
      const hostile: [string, string][] = [
        ['/pub', `../../wharf-escape-${tag}-1.txt`],
        ['/pub', `/../../../wharf-escape-${tag}-2.txt`],
        ['/', `..\\..\\wharf-escape-${tag}-3.txt`],
        ['/pub', `./.././/..//wharf-escape-${tag}-4.txt`],
        ['/pub', `/../etc/wharf-escape-${tag}-5`],
      ];
      for (const [cwd, arg] of hostile) {
        const path = resolveVirtualPath(cwd, arg);
        assert.ok(path.startsWith('/') && !path.split('/').includes('..'), `${arg} resolved to ${path}`);
        await mkdirs(vfs, path);
        await putFile(vfs, path, `content of ${arg}`);
        await assertContent(vfs, path, `content of ${arg}`);
        assert.ok((await namesIn(vfs, parentOf(path))).includes(baseName(path)), `${path} is listed where it resolved`);
      }
      await fails(vfs.stat(resolveVirtualPath('/pub', '/../../etc/passwd')), 'not-found');
      await fails(vfs.read(resolveVirtualPath('/pub', '../../../../etc/passwd'), 0), 'not-found');
      const top = new Set(hostile.map(([cwd, arg]) => resolveVirtualPath(cwd, arg).split('/')[1]));
      assert.deepEqual(await namesIn(vfs, resolveVirtualPath('/pub', '../../../..')), [...top, 'pub'].sort(), 'the root holds what was made');
    },
  ],

  [
    'even an unnormalised path never leaves the root',
    async ({ vfs }) => {
      const name = `wharf-raw-escape-${randomBytes(4).toString('hex')}.txt`;
      for (const raw of [`/../${name}`, `/../../${name}`, `/./../${name}`]) {
        const created = await putFile(vfs, raw, 'raw').then(
          () => true,
          () => false,
        );
        // Refused, or written where the normalised path points: never reported done but put elsewhere.
        if (created) await assertContent(vfs, `/${name}`, 'raw', `${raw} landed inside`);
        await vfs.stat(raw).then(
          (st) => assert.equal(st.name, name),
          () => undefined,
        );
      }
    },
  ],

  [
    'names with spaces, UTF-8, %, quotes and punctuation round-trip',
    async ({ vfs }) => {
      await vfs.mkdir('/odd');
      for (const name of ODD_NAMES) {
        const path = resolveVirtualPath('/odd', name);
        assert.equal(path, `/odd/${name}`, `resolveVirtualPath keeps ${JSON.stringify(name)}`);
        await putFile(vfs, path, `data:${name}`);
        const st = await vfs.stat(path);
        assert.equal(st.name, name);
        assert.equal(st.size, Buffer.byteLength(`data:${name}`));
        await assertContent(vfs, path, `data:${name}`);
      }
      assert.deepEqual(await namesIn(vfs, '/odd'), [...ODD_NAMES].sort());
      const dir = '/odd/dir ü "%" \'';
      await vfs.mkdir(dir);
      await vfs.rename(`/odd/${ODD_NAMES[3]}`, `${dir}/renamed 😀 %.txt`);
      await assertContent(vfs, `${dir}/renamed 😀 %.txt`, `data:${ODD_NAMES[3]}`);
      assert.deepEqual(await namesIn(vfs, dir), ['renamed 😀 %.txt']);
      for (const name of ODD_NAMES) if (name !== ODD_NAMES[3]) await vfs.remove(`/odd/${name}`);
      await vfs.remove(`${dir}/renamed 😀 %.txt`);
      await vfs.rmdir(dir);
      assert.deepEqual(await namesIn(vfs, '/odd'), []);
    },
  ],

  [
    'symlinks leading outside the root are refused and reveal nothing',
    async (c) => {
      const { vfs, target, t } = c;
      if (!target.symlink || !vfs.capabilities.symlinks) {
        t.skip('the backend has no symlinks (or the target cannot make them)');
        return;
      }
      await vfs.mkdir('/real');
      await putFile(vfs, '/real/f.txt', 'inside');
      await target.symlink('/out', 'outside');
      await target.symlink('/real/deep', 'outside');
      await assertRefusedOutside(c, '/out');
      await assertRefusedOutside(c, '/real/deep');
      for (const dir of ['/', '/real']) {
        for (const e of (await listAll(vfs, dir)).entries) {
          assert.ok(!['out', 'deep'].includes(e.name) || e.type === 'link', `${dir}: an outside link is listed as ${e.type}`);
        }
      }
      await assertContent(vfs, '/real/f.txt', 'inside');
    },
  ],

  [
    'symlinks inside the root work',
    async ({ vfs, target, t }) => {
      if (!target.symlink || !vfs.capabilities.symlinks) {
        t.skip('the backend has no symlinks (or the target cannot make them)');
        return;
      }
      await vfs.mkdir('/real');
      await putFile(vfs, '/real/f.txt', 'inside');
      await target.symlink('/dirlink', '/real');
      await target.symlink('/filelink', '/real/f.txt');
      const st = await vfs.stat('/filelink');
      assert.equal(st.type, 'file');
      assert.equal(st.size, 6);
      assert.equal((await readAll(vfs, '/filelink')).toString(), 'inside');
      assert.equal((await readAll(vfs, '/filelink', 2)).toString(), 'side');
      assert.equal((await vfs.stat('/dirlink')).type, 'dir');
      assert.deepEqual(await namesIn(vfs, '/dirlink'), ['f.txt']);
      await putFile(vfs, '/dirlink/g.txt', 'via link');
      await assertContent(vfs, '/real/g.txt', 'via link');
      const listed = (await listAll(vfs, '/')).entries.find((e) => e.name === 'filelink');
      assert.ok(listed && ['file', 'link'].includes(listed.type), 'a link inside is listed');
    },
  ],

  [
    'errors are VfsErrors with a code and no host path',
    async ({ vfs, fails }) => {
      await vfs.mkdir('/d');
      await putFile(vfs, '/d/f', 'x');
      const cases: [string, () => Promise<unknown>][] = [
        ['stat missing', () => vfs.stat('/missing/file name')],
        ['read dir', () => vfs.read('/d', 0)],
        ['read past end', () => vfs.read('/d/f', 5)],
        ['list file', () => listAll(vfs, '/d/f')],
        ['write missing parent', () => vfs.write('/nowhere/f', { kind: 'replace' })],
        ['create-new exists', () => vfs.write('/d/f', { kind: 'create-new' })],
        ['mkdir exists', () => vfs.mkdir('/d')],
        ['rmdir not empty', () => vfs.rmdir('/d')],
        ['remove dir', () => vfs.remove('/d')],
        ['rename into itself', () => vfs.rename('/d', '/d/e')],
        ['rename root', () => vfs.rename('/', '/x')],
        ['setMtime missing', () => vfs.setMtime('/missing', new Date())],
      ];
      const seen = new Set<string>();
      for (const [what, op] of cases) {
        const err = await fails(op, ['not-found', 'is-dir', 'bad-offset', 'not-dir', 'exists', 'not-empty', 'denied', 'unsupported'], what);
        assert.ok(!err.message.includes('/d') && !err.message.includes('missing'), `${what}: the message names the path`);
        seen.add(err.code);
      }
      assert.ok(seen.size >= 6, 'distinct failures have distinct codes');
    },
  ],
];
