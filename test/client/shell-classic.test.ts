/**
 * Scripts written for the classic client (inetutils ftp) run unchanged
 * through `wharf shell` (issue 10, item 6): the same here-document goes to
 * both, against the same kind of Wharf server, and both must leave the same
 * files behind (by sha256, here and on the server), list the same names
 * remotely, and print the same toggle messages.
 *
 * What inetutils ftp 2.4 does, measured: prompting starts on whatever
 * standard input is (`prompt` turns it off; a script's next lines answer the
 * questions, n/N is no, end of input is no); verbose starts on only on a
 * terminal; globbing on; hash, bell and runique off.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { connect } from '../../src/client/index.js';
import { describe as describeRun, inetutilsFtp, run, type RunResult } from '../helpers/clients.js';
import { bytes, makeTree, readTree, runCli, sha256, tempDir } from '../helpers/peers.js';
import { startServer, type TestServer } from '../helpers/server.js';

const BIN = bytes(70_000, 6);
const CLIENTS = ['classic', 'wharf'] as const;
type Client = (typeof CLIENTS)[number];

/** What one client left behind. */
interface Outcome {
  stdout: string;
  /** The local directory: relative path -> sha256 (`dir` for directories). */
  local: Record<string, string>;
  /** The remote directory, the same way, read on the server's disk. */
  remote: Record<string, string>;
  /** The remote directory's names as the server lists them (NLST), sorted. */
  listing: string[];
}

/** A scenario: the trees each client starts from and the script's lines after login. */
interface Scenario {
  name: string;
  remote: Record<string, string | Buffer>;
  local: Record<string, string | Buffer>;
  lines: string[];
  /** `reader` may only list and download; `alice` (the default) may do anything. */
  user?: 'alice' | 'reader';
}

/** The classic client's table of questions: `mget NAME? ` in the order asked. */
function questions(stdout: string): { cmd: string; name: string }[] {
  return [...stdout.matchAll(/(mget|mput|mdelete) (\S+)\? /g)].map((m) => ({ cmd: m[1] ?? '', name: m[2] ?? '' }));
}

/** Expected sha256 trees: `base` plus `add` (contents), minus `remove`. */
function tree(base: Record<string, string | Buffer>, add: Record<string, string | Buffer> = {}, remove: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...base, ...add })) if (!remove.includes(k)) out[k] = sha256(v);
  return out;
}

describe('wharf shell runs classic ftp scripts as inetutils ftp does', () => {
  let srv: TestServer;
  let work: { dir: string; cleanup: () => Promise<void> };

  before(async () => {
    srv = await startServer();
    work = await tempDir();
  });
  after(async () => {
    await work?.cleanup();
    await srv?.close();
  });

  /** Lists a remote directory's names through the library (NLST), in the server's order. */
  async function nlst(dir: string, user = 'alice'): Promise<string[]> {
    const client = await connect({ host: '127.0.0.1', port: srv.port, user, password: 'secret', timeout: 10_000 });
    try {
      return await client.listRaw(dir, { command: 'NLST' });
    } finally {
      await client.close();
    }
  }

  /** Runs one client on a scenario in fresh directories of its own; `before` sees the remote names first. */
  async function runOne(s: Scenario, client: Client, args: string[] = []): Promise<Outcome & { order: string[] }> {
    const dir = `${s.name}-${client}`;
    const user = s.user ?? 'alice';
    const remoteDir = path.join(user === 'alice' ? srv.aliceHome : srv.readerHome, dir);
    const localDir = path.join(work.dir, dir);
    await fs.promises.mkdir(remoteDir);
    await fs.promises.mkdir(localDir);
    await makeTree(remoteDir, s.remote);
    await makeTree(localDir, s.local);
    const order = await nlst(dir, user);
    const input = [`open 127.0.0.1 ${srv.port}`, `user ${user} secret`, `cd ${dir}`, ...s.lines].join('\n') + '\n';
    let r: RunResult;
    if (client === 'classic') {
      r = await run(inetutilsFtp(), ['-n', '-p', ...args], { cwd: localDir, input, timeoutMs: 30_000 });
    } else {
      const c = await runCli(['shell', '-n', ...args], { cwd: localDir, input, timeoutMs: 30_000 });
      r = { code: c.code, signal: null, stdout: Buffer.from(c.stdout), stderr: c.stderr, timedOut: false };
    }
    assert.equal(r.code, 0, `${client}: ${describeRun(r)}`);
    assert.equal(r.timedOut, false);
    return { stdout: r.stdout.toString('utf8'), local: await readTree(localDir), remote: await readTree(remoteDir), listing: (await nlst(dir, user)).sort(), order };
  }

  /** Runs both clients on a scenario. */
  async function both(s: Scenario, args: string[] = []): Promise<Record<Client, Outcome & { order: string[] }>> {
    return { classic: await runOne(s, 'classic', args), wharf: await runOne(s, 'wharf', args) };
  }

  test('prompt, then mget f*, mput *.z, mdelete md_*: every match is transferred or deleted, none of the lines is eaten', async () => {
    const s: Scenario = {
      name: 'issue',
      remote: { 'f1.txt': 'one', 'f2.bin': BIN, 'f3.txt': 'three', md_1: 'm1', md_2: 'm2', md_3: 'm3', 'keep.txt': 'keep' },
      local: { 'a.z': 'za', 'b.z': 'zb', 'c.z': 'zc', 'other.txt': 'other' },
      lines: ['prompt', 'mget f*', 'mput *.z', 'mdelete md_*', 'bye'],
    };
    const out = await both(s);
    const local = tree(s.local, { 'f1.txt': 'one', 'f2.bin': BIN, 'f3.txt': 'three' });
    const remote = tree(s.remote, { 'a.z': 'za', 'b.z': 'zb', 'c.z': 'zc' }, ['md_1', 'md_2', 'md_3']);
    for (const c of CLIENTS) {
      assert.deepEqual(out[c].local, local, c);
      assert.deepEqual(out[c].remote, remote, c);
      assert.deepEqual(out[c].listing, Object.keys(remote).sort(), c);
      assert.equal(out[c].stdout, 'Interactive mode off.\n', c);
    }
  });

  test('without prompt, the lines after mget, mdelete and mput answer them: n or N is no, anything else yes, end of input no', async () => {
    const s: Scenario = {
      name: 'answers',
      remote: { f1: 'one', f2: 'two', f3: 'three', md_1: 'm1', md_2: 'm2', md_3: 'm3' },
      local: { 'a.z': 'za', 'b.z': 'zb', 'c.z': 'zc' },
      lines: ['mget f*', 'n', 'yes', '', 'mdelete md_*', 'N', ' n', 'x', 'mput *.z', 'y', 'no'],
    };
    const answers: Record<string, boolean[]> = { mget: [false, true, true], mdelete: [false, true, true], mput: [true, false] };
    const out = await both(s);
    for (const c of CLIENTS) {
      const asked = questions(out[c].stdout);
      assert.equal(out[c].stdout, asked.map((q) => `${q.cmd} ${q.name}? `).join(''), `${c}: nothing but the questions`);
      const names = (cmd: string): string[] => asked.filter((q) => q.cmd === cmd).map((q) => q.name);
      // Remote names come in the server's order, local ones sorted, as the classic client asks about them.
      assert.deepEqual(
        names('mget'),
        out[c].order.filter((n) => n.startsWith('f')),
        c,
      );
      assert.deepEqual(
        names('mdelete'),
        out[c].order.filter((n) => n.startsWith('md_')),
        c,
      );
      assert.deepEqual(names('mput'), ['a.z', 'b.z', 'c.z'], `${c}: end of input is no to c.z, and the question is still asked`);
      const yes = (cmd: string): string[] => names(cmd).filter((_, i) => answers[cmd]?.[i] === true);
      const fetched = Object.fromEntries(yes('mget').map((n) => [n, s.remote[n] ?? '']));
      const uploaded = Object.fromEntries(yes('mput').map((n) => [n, s.local[n] ?? '']));
      assert.deepEqual(out[c].local, tree(s.local, fetched), c);
      assert.deepEqual(out[c].remote, tree(s.remote, uploaded, yes('mdelete')), c);
    }
    assert.deepEqual(
      questions(out.wharf.stdout)
        .map((q) => q.name)
        .sort(),
      questions(out.classic.stdout)
        .map((q) => q.name)
        .sort(),
    );
  });

  test('glob off: mget g*, mput l* and mdelete f* take the names literally; glob on expands again', async () => {
    const s: Scenario = {
      name: 'glob',
      remote: { 'g*': 'literal star', g1: 'g one', f1: 'f one', md_1: 'm1', md_2: 'm2' },
      local: { 'l*': 'local star', l1: 'l one' },
      lines: ['prompt', 'glob', 'mget g*', 'mput l*', 'mdelete f*', 'glob', 'mdelete md_*', 'bye'],
    };
    const out = await both(s);
    const remote = tree(s.remote, { 'l*': 'local star' }, ['md_1', 'md_2']);
    for (const c of CLIENTS) {
      assert.deepEqual(out[c].local, tree(s.local, { 'g*': 'literal star' }), c);
      assert.deepEqual(out[c].remote, remote, c);
      assert.deepEqual(out[c].listing, Object.keys(remote).sort(), c);
      assert.equal(out[c].stdout, 'Interactive mode off.\nGlobbing off.\nFile not found.\nGlobbing on.\n', c);
    }
  });

  test('a file the server refuses does not end mput, mdelete or mget: the next one is tried', async () => {
    const s: Scenario = {
      name: 'refused',
      user: 'reader',
      remote: { f1: 'one', f2: 'two', md_1: 'm1', md_2: 'm2' },
      local: { 'a.z': 'za', 'b.z': 'zb' },
      lines: ['prompt', 'mput *.z', 'mdelete md_*', 'mget nothere f1 f2 nomatch*', 'bye'],
    };
    const out = await both(s);
    for (const c of CLIENTS) {
      assert.deepEqual(out[c].local, tree(s.local, { f1: 'one', f2: 'two' }), c);
      assert.deepEqual(out[c].remote, tree(s.remote), c);
      const lines = out[c].stdout.split('\n');
      assert.equal(lines[0], 'Interactive mode off.', c);
      assert.equal(lines.length, 7, `${c}: two refused uploads, two refused deletes, one missing file:\n${out[c].stdout}`);
      assert.equal(lines[5], 'File not found.', c);
    }
    assert.equal(out.wharf.stdout, out.classic.stdout);
  });

  test('runique: a get of a name already here lands in NAME.1, then NAME.2; off again, get replaces; put twice replaces', async () => {
    const s: Scenario = {
      name: 'runique',
      remote: { r1: 'remote r1' },
      local: { r1: 'old r1', 'up.txt': 'upload me' },
      lines: ['runique', 'get r1', 'get r1', 'runique', 'get r1 r1.copy', 'put up.txt', 'put up.txt', 'bye'],
    };
    const out = await both(s);
    for (const c of CLIENTS) {
      assert.deepEqual(out[c].local, tree(s.local, { 'r1.1': 'remote r1', 'r1.2': 'remote r1', 'r1.copy': 'remote r1' }), c);
      assert.deepEqual(out[c].remote, tree(s.remote, { 'up.txt': 'upload me' }), c);
      assert.deepEqual(out[c].listing, ['r1', 'up.txt'], c);
      assert.equal(out[c].stdout, 'Receive unique on.\nReceive unique off.\n', c);
    }
  });

  test('hash and bell: a mark per SIZE bytes plus one, none for an empty file; the bell after each transfer, failed or not', async () => {
    const s: Scenario = {
      name: 'hash',
      remote: { h5000: bytes(5000, 2), h0: '', h1: 'x' },
      local: { up3000: bytes(3000, 3) },
      lines: ['hash', 'get h5000', 'put up3000', 'get h0', 'hash 1000', 'get h5000 h5000.b', 'hash', 'bell', 'get h1', 'get missing', 'bell', 'bye'],
    };
    const out = await both(s);
    const stdout = [
      'Hash mark printing on (1024 bytes/hash mark).',
      '#####', // 5000 bytes
      '###', // 3000 bytes sent
      'Hash mark printing on (1000 bytes/hash mark).',
      '######',
      'Hash mark printing off.',
      'Bell mode on.',
      '\x07File not found.',
      '\x07Bell mode off.',
      '',
    ].join('\n');
    for (const c of CLIENTS) {
      assert.deepEqual(out[c].local, tree(s.local, { h5000: s.remote.h5000 ?? '', 'h5000.b': s.remote.h5000 ?? '', h0: '', h1: 'x' }), c);
      assert.deepEqual(out[c].remote, tree(s.remote, { up3000: s.local.up3000 ?? '' }), c);
      assert.equal(out[c].stdout, stdout, c);
    }
  });

  test('the toggles print the same messages, and a script starts in the same state', async () => {
    const lines = [
      ...['status', 'prompt', 'prompt', 'glob', 'glob', 'bell', 'bell', 'verbose', 'verbose', 'runique', 'runique'],
      ...['hash', 'hash', 'hash 100', 'hash 2k', 'hash x', 'hash', 'hash 0', 'hash', 'debug', 'debug', 'debug 3', 'debug'],
      ...['xyz', 're', ...['glob', 'hash', 'bell', 'runique', 'prompt', 'verbose', 'debug', 'mget', 'xyz', 're'].map((c) => `help ${c}`)],
    ];
    const input = `${lines.join('\n')}\n`;
    const classic = await run(inetutilsFtp(), [], { input, cwd: work.dir, timeoutMs: 30_000 });
    const wharf = await runCli(['shell'], { input, cwd: work.dir, timeoutMs: 30_000 });
    assert.equal(classic.code, 0, describeRun(classic));
    assert.equal(wharf.code, 0, wharf.stderr);
    // `status` says more in each client; the line of toggles is the same.
    const toggles = /^Verbose: .*$/m;
    const state = 'Verbose: off; Bell: off; Prompting: on; Globbing: on';
    assert.equal(toggles.exec(classic.stdout.toString())?.[0], state);
    assert.equal(toggles.exec(wharf.stdout)?.[0], state);
    const after = (text: string): string => text.slice(text.indexOf('Interactive mode off.'));
    assert.equal(after(wharf.stdout), after(classic.stdout.toString()));
    assert.match(wharf.stdout, /^Hash mark printing on \(2048 bytes\/hash mark\)\.$/m);
    assert.match(wharf.stdout, /^Debugging on \(debug=3\)\.$/m);
    assert.match(wharf.stdout, /^\?Ambiguous command$/m);
  });

  test('--verbose (as -v) shows the replies even from a script, as a terminal session does', async () => {
    const s: Scenario = { name: 'verbose', remote: { f1: 'one' }, local: {}, lines: ['prompt', 'mget f*', 'status', 'bye'] };
    const classic = await runOne(s, 'classic', ['--verbose']);
    const wharf = await runOne(s, 'wharf', ['--verbose']);
    for (const out of [classic, wharf]) {
      assert.match(out.stdout, /^Connected to 127\.0\.0\.1\.\n220 /);
      assert.match(out.stdout, /^230 /m);
      assert.match(out.stdout, /^Interactive mode off\.\nlocal: f1 remote: f1\n/m);
      assert.match(out.stdout, /^150 .*\n226 .*\n3 bytes received in /m);
      assert.match(out.stdout, /^Verbose: on; Bell: off; Prompting: off; Globbing: on$/m);
      assert.match(out.stdout, /^221 /m);
      assert.deepEqual(out.local, tree({ f1: 'one' }));
    }
  });
});
