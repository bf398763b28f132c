/**
 * Interop: the real FileZilla (Debian `filezilla` under `xvfb-run`; needs
 * the packages filezilla, xvfb and xauth). FileZilla sends the transfer
 * command and opens the data connection at the same time (issue 10, item
 * 1). It has no command line for transfers, so the test uses what it does
 * on its own: connect to a site, log in, and list the home directory with
 * PASV + MLSD. Once directly (on loopback its connection usually wins the
 * race) and once through a proxy that holds its data connection until the
 * server waits for it (the order that failed).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.js';
import { tempDir } from '../helpers/clients.js';
import { seedHome, SEED } from '../helpers/dataOrder.js';
import { LateDataProxy, fileZillaHome, startFileZilla, waitForLog } from '../helpers/filezilla.js';

const LISTED = /Directory listing of "\/" successful/;
const FAILED = /^\S+ \S+ \d+ \d+ Error: /m;

async function setup(t: TestContext): Promise<{ srv: TestServer; home: string }> {
  const srv = await startServer();
  t.after(() => srv.close());
  await seedHome(srv.aliceHome);
  const { dir, cleanup } = await tempDir('wharf-filezilla-');
  t.after(cleanup);
  return { srv, home: dir };
}

/** Runs FileZilla against `port` until it has listed "/", then stops it; returns its log. */
async function listWithFileZilla(home: string, port: number): Promise<string> {
  const log = await fileZillaHome(home, port, 'alice', 'secret');
  const fz = startFileZilla(home, home);
  try {
    return await waitForLog(log, LISTED, FAILED);
  } finally {
    await fz.stop();
  }
}

test('FileZilla logs in and lists the home directory (PASV + MLSD)', async (t) => {
  const { srv, home } = await setup(t);
  const log = await listWithFileZilla(home, srv.port);
  assert.match(log, /Command: MLSD/);
  assert.match(log, /Response: 226 /);
  assert.doesNotMatch(log, FAILED);
});

test("FileZilla's MLSD succeeds when its data connection reaches the server only after the command", async (t) => {
  const { srv, home } = await setup(t);
  const proxy = new LateDataProxy(srv.port);
  const port = await proxy.listen();
  try {
    const log = await listWithFileZilla(home, port);
    assert.match(log, /Command: MLSD/);
    assert.match(log, /Response: 226 /);
    assert.ok(proxy.relayed >= 1, 'the data connection went through the late relay');
    assert.ok(log.includes(SEED.name) || LISTED.test(log));
  } finally {
    proxy.close();
  }
});
