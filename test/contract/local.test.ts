/**
 * The Vfs contract against LocalVfs on a fresh temporary directory:
 * <base>/jail/root is the root, <base>/outside the "outside" place of the
 * symlink tests. Clean-up checks that nothing appeared next to the root
 * or one level above it, and that the outside place is as it was.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalVfs } from '../../src/vfs/local/localVfs.js';
import { OUTSIDE_SECRET, vfsContractSuite, type ContractTarget } from '../../src/vfs/index.js';

async function makeLocal(): Promise<ContractTarget> {
  const base = await realpath(await mkdtemp(join(tmpdir(), 'wharf-contract-')));
  const root = join(base, 'jail', 'root');
  const outside = join(base, 'outside');
  await mkdir(root, { recursive: true });
  await mkdir(join(outside, 'sub'), { recursive: true });
  await writeFile(join(outside, 'secret.txt'), OUTSIDE_SECRET);
  return {
    vfs: await LocalVfs.open(root),
    hostRoot: root,
    symlink: (link, target) => symlink(target === 'outside' ? outside : join(root, target), join(root, link)),
    cleanup: async () => {
      try {
        assert.deepEqual(await readdir(join(base, 'jail')), ['root'], 'nothing appeared next to the root');
        assert.deepEqual((await readdir(base)).sort(), ['jail', 'outside'], 'nothing appeared two levels up');
        assert.deepEqual((await readdir(outside)).sort(), ['secret.txt', 'sub'], 'the outside place is unchanged');
        assert.deepEqual(await readdir(join(outside, 'sub')), []);
        assert.equal(await readFile(join(outside, 'secret.txt'), 'utf8'), OUTSIDE_SECRET);
      } finally {
        await rm(base, { recursive: true, force: true });
      }
    },
  };
}

vfsContractSuite('local', makeLocal);
