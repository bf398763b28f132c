/**
 * The shell's flags as the classic client has them: `-i` (no questions),
 * `-g` (no globbing), `-v` (verbose from a script), `-d` (debugging), `-p`
 * (passive). Each starts the shell in the state inetutils ftp starts in with
 * the same flag, as `status` shows it. Run through registerShellCommand (see
 * shell-cli-main.ts), the registration the CLI uses.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe as describeRun, inetutilsFtp, run, type RunResult } from '../helpers/clients.js';
import { makeTree, readTree, sha256, tempDir } from '../helpers/peers.js';
import { startServer, type TestServer } from '../helpers/server.js';

const MAIN = path.join(path.dirname(new URL(import.meta.url).pathname), 'shell-cli-main.js');

/** Runs the shell with flags on a script; a hard timeout, and it must exit 0. */
async function shell(args: string[], lines: string[], cwd: string): Promise<string> {
  const r: RunResult = await run(process.execPath, [MAIN, 'shell', ...args], { input: `${lines.join('\n')}\n`, cwd, timeoutMs: 30_000 });
  assert.equal(r.code, 0, describeRun(r));
  return r.stdout.toString('utf8');
}

/** The line of toggles in `status`. */
function toggles(stdout: string): string | undefined {
  return /^Verbose: .*$/m.exec(stdout)?.[0];
}

describe('wharf shell flags', () => {
  let srv: TestServer;
  let work: { dir: string; cleanup: () => Promise<void> };

  before(async () => {
    srv = await startServer();
    work = await tempDir();
    await makeTree(srv.aliceHome, { f1: 'one', f2: 'two', 'g*': 'literal', g1: 'g one' });
  });
  after(async () => {
    await work?.cleanup();
    await srv?.close();
  });

  async function scratch(name: string): Promise<string> {
    const d = path.join(work.dir, name);
    await fs.promises.mkdir(d);
    return d;
  }

  for (const flags of [[], ['-i'], ['-g'], ['-v'], ['-i', '-g', '-v'], ['--no-prompt', '--no-glob', '--verbose']]) {
    test(`${flags.join(' ') || 'no flags'}: status shows what inetutils ftp shows`, async () => {
      const cwd = await scratch(`status${flags.join('')}`);
      // inetutils has the same long flags.
      const classic = await run(inetutilsFtp(), flags, { input: 'status\n', cwd, timeoutMs: 30_000 });
      assert.equal(classic.code, 0, describeRun(classic));
      const expected = toggles(classic.stdout.toString('utf8'));
      assert.ok(expected);
      assert.equal(toggles(await shell(flags, ['status'], cwd)), expected);
    });
  }

  test('-i: mget takes every match without asking; the next line stays a command', async () => {
    const cwd = await scratch('no-prompt');
    const out = await shell(['-n', '-i'], [`open 127.0.0.1 ${srv.port}`, 'user alice secret', 'mget f*', 'prompt', 'bye'], cwd);
    assert.equal(out, 'Interactive mode on.\n');
    assert.deepEqual(await readTree(cwd), { f1: sha256('one'), f2: sha256('two') });
  });

  test('-g: mget g* fetches the file named g*', async () => {
    const cwd = await scratch('no-glob');
    const out = await shell(['-n', '-g'], [`open 127.0.0.1 ${srv.port}`, 'user alice secret', 'mget g*', 'y', 'glob', 'bye'], cwd);
    assert.equal(out, 'mget g*? Globbing on.\n');
    assert.deepEqual(await readTree(cwd), { 'g*': sha256('literal') });
  });

  test('-v shows the dialogue from a script; -d the commands too, the password masked; -p is accepted', async () => {
    const cwd = await scratch('verbose');
    let out = await shell(['-n', '-v', '-p'], [`open 127.0.0.1 ${srv.port}`, 'user alice secret', 'cd nowhere', 'bye'], cwd);
    assert.match(out, /^Connected to 127\.0\.0\.1\.\n220 /);
    assert.match(out, /^230 /m);
    assert.match(out, /^550 /m, 'errors keep their code when verbose');
    assert.match(out, /^221 /m);
    assert.doesNotMatch(out, /^---> /m);
    out = await shell(['-n', '-d'], [`open 127.0.0.1 ${srv.port}`, 'user alice secret', 'cd nowhere', 'debug', 'cd nowhere'], cwd);
    assert.match(out, /^---> USER alice$/m);
    assert.match(out, /^---> PASS XXXX$/m);
    assert.doesNotMatch(out, /^230 /m, '-d alone does not make it verbose');
    assert.equal(out.match(/^Directory not found\.$/gm)?.length, 2);
    assert.match(out, /^Debugging off \(debug=0\)\.\n(?!--->)/m);
  });

  test('an unknown flag is a usage error', async () => {
    const r = await run(process.execPath, [MAIN, 'shell', '-z'], { input: '', timeoutMs: 30_000 });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unknown option '-z'/);
  });
});
