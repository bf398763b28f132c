/** Mirror both directions against pyftpdlib, with a checked tree comparison and change detection. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { connect, mirrorDown, mirrorUp, type FtpClient } from '../../src/index.js';
import { bytes, makeTree, readTree, startPyftpdlib, tempDir, type Peer } from '../helpers/peers.js';

const TREE = {
  'top.txt': 'top',
  'big.bin': bytes(700_000, 11),
  'a/one.txt': 'one',
  'a/b/two.txt': 'two',
  'a/b/c/three.bin': bytes(50_000, 5),
  'empty/.keep': '',
  'd/x1': 'x1',
  'd/x2': 'x2',
  'd/x3': 'x3',
  'd/x4': 'x4',
  'd/x5': 'x5',
};

for (const mlsd of [true, false]) {
  describe(`mirror (${mlsd ? 'MLSD' : 'LIST'})`, () => {
    let work: { dir: string; cleanup: () => Promise<void> };
    let peer: Peer;
    let client: FtpClient;
    let root: string;

    before(async () => {
      work = await tempDir();
      root = path.join(work.dir, 'root');
      await makeTree(root, Object.fromEntries(Object.entries(TREE).map(([k, v]) => [`src/${k}`, v])));
      peer = await startPyftpdlib({ root, mlsd });
      client = await connect(peer.url, { user: 'user', password: 'secret' });
    });
    after(async () => {
      await client?.close();
      await peer?.close();
      await work?.cleanup();
    });

    test('down: full copy, then nothing, then only the changed file (3 connections)', async () => {
      const local = path.join(work.dir, 'down');
      const first = await mirrorDown(client, 'src', local, { parallel: 3 });
      assert.equal(first.transferred.length, Object.keys(TREE).length);
      assert.deepEqual(await readTree(local), await readTree(path.join(root, 'src')));
      const second = await mirrorDown(client, 'src', local, { parallel: 3 });
      assert.equal(second.transferred.length, 0);
      assert.equal(second.skipped.length, Object.keys(TREE).length);
      await fs.promises.writeFile(path.join(root, 'src/a/b/two.txt'), 'two, longer now');
      const third = await mirrorDown(client, 'src', local, { parallel: 2 });
      assert.deepEqual(third.transferred, ['a/b/two.txt']);
      assert.deepEqual(await readTree(local), await readTree(path.join(root, 'src')));
    });

    test('up: full copy, then nothing, then only the changed file', async () => {
      const local = path.join(work.dir, 'up-src');
      await makeTree(local, TREE);
      const first = await mirrorUp(client, local, 'dest/inner', { parallel: 3 });
      assert.equal(first.transferred.length, Object.keys(TREE).length);
      assert.deepEqual(await readTree(path.join(root, 'dest/inner')), await readTree(local));
      const second = await mirrorUp(client, local, 'dest/inner', { parallel: 3 });
      assert.equal(second.transferred.length, 0);
      await fs.promises.writeFile(path.join(local, 'a/one.txt'), 'one changed, different size');
      const third = await mirrorUp(client, local, 'dest/inner');
      assert.deepEqual(third.transferred, ['a/one.txt']);
      assert.deepEqual(await readTree(path.join(root, 'dest/inner')), await readTree(local));
    });
  });
}
