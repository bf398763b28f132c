/**
 * FTPS with parallel connections (issue 10, item 5): rclone, like any client
 * on Go's TLS library, keeps one TLS session cache for all its control
 * connections, so a data connection resumes whichever sibling's session was
 * cached last. `rclone copy --transfers 4` up and down a tree of 21 files
 * over explicit and implicit FTPS (and over TLS 1.2, where the ticket
 * travels in the session_ticket extension rather than as a PSK identity),
 * sha256-compared; one try only, so a single 522 fails the run.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { bytes, describe, makeTree, readTree, run, tempDir, type RunResult } from '../helpers/clients.js';
import { startFtps, type FtpsServer } from '../helpers/tls.js';

/** 21 files in three directories, from 0 bytes to 1.5 MiB. */
function tree(): Record<string, Buffer> {
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < 21; i++) {
    const dir = ['', 'docs/', 'docs/deep/'][i % 3] as string;
    files[`${dir}file-${i}.bin`] = bytes(i === 20 ? 1536 * 1024 : i * 7919, i + 1);
  }
  return files;
}

interface Remote {
  env: NodeJS.ProcessEnv;
  /** Control connections the server saw. */
  connects: () => number;
}

async function remote(t: TestContext, f: FtpsServer, opts: { implicit: boolean; tls12?: boolean }): Promise<Remote> {
  const home = await tempDir('wharf-rclone-home-');
  t.after(home.cleanup);
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home.dir, RCLONE_CONFIG: path.join(home.dir, 'rclone.conf'), LC_ALL: 'C.UTF-8' };
  const obscured = await run('rclone', ['obscure', 'secret'], { env });
  assert.equal(obscured.code, 0, describe(obscured));
  Object.assign(env, {
    RCLONE_CONFIG_WHARF_TYPE: 'ftp',
    RCLONE_CONFIG_WHARF_HOST: '127.0.0.1',
    RCLONE_CONFIG_WHARF_PORT: String(opts.implicit ? f.implicitPort : f.port),
    RCLONE_CONFIG_WHARF_USER: 'alice',
    RCLONE_CONFIG_WHARF_PASS: obscured.stdout.toString('utf8').trim(),
    [opts.implicit ? 'RCLONE_CONFIG_WHARF_TLS' : 'RCLONE_CONFIG_WHARF_EXPLICIT_TLS']: 'true',
    RCLONE_CONFIG_WHARF_NO_CHECK_CERTIFICATE: 'true',
    RCLONE_CONFIG_WHARF_DISABLE_TLS13: opts.tls12 ? 'true' : 'false',
  });
  let connects = 0;
  f.srv.server.on('connect', () => connects++);
  return { env, connects: () => connects };
}

/** One try, no low-level retries: a refused data connection fails the copy. */
function rcloneCopy(r: Remote, from: string, to: string): Promise<RunResult> {
  return run('rclone', ['copy', '--transfers', '4', '--checkers', '4', '--retries', '1', '--low-level-retries', '1', '-v', from, to], { env: r.env, timeoutMs: 120_000 });
}

function assertClean(r: RunResult, what: string): void {
  assert.equal(r.code, 0, `${what}: ${describe(r)}`);
  assert.doesNotMatch(r.stderr, /\b52[12]\b|ERROR/, `${what}: ${r.stderr}`);
}

for (const variant of [
  { implicit: false, tls12: false },
  { implicit: true, tls12: false },
  { implicit: false, tls12: true },
  { implicit: true, tls12: true },
]) {
  const name = `${variant.implicit ? 'implicit' : 'explicit'} FTPS, TLS ${variant.tls12 ? '1.2' : '1.3'}`;
  test(`rclone copy --transfers 4 over ${name}: 21 files up and down, sha256 equal, no 522`, async (t) => {
    // require = "users": every data connection of alice's must be TLS (PROT P), so each one is checked.
    const f = await startFtps(t, { require: 'users' });
    const r = await remote(t, f, variant);
    const src = path.join(f.tmp, 'src');
    const down = path.join(f.tmp, 'down');
    await makeTree(src, tree());
    const want = await readTree(src);

    assertClean(await rcloneCopy(r, src, 'wharf:up'), 'upload');
    assert.deepEqual(await readTree(path.join(f.srv.aliceHome, 'up')), want);
    assertClean(await rcloneCopy(r, 'wharf:up', down), 'download');
    assert.deepEqual(await readTree(down), want);
    // Parallel control connections, each with its own TLS session: the case at stake.
    assert.ok(r.connects() >= 4, `rclone used ${r.connects()} control connections`);
  });
}
