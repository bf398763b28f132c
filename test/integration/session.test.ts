import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startServer, type TestServer } from '../helpers/server.js';
import { RawSession, readAll } from '../helpers/raw.js';

let srv: TestServer;
const open: RawSession[] = [];

before(async () => {
  srv = await startServer({ server: { banner: 'Welcome to the test archive\nSecond banner line' } });
  await writeFile(join(srv.root, '.message'), 'Welcome, archive user.\nPlease be nice.\n');
  await mkdir(join(srv.root, 'docs'));
  await writeFile(join(srv.root, 'docs', '.message'), 'This is the docs directory.\n');
  await writeFile(join(srv.root, 'docs', 'text.txt'), 'one\ntwo\nthree\n');
  await writeFile(join(srv.root, 'docs', 'fïlé with spaces.txt'), 'unicode content');
});
after(async () => {
  for (const s of open) s.close();
  await srv.close();
});

async function session(user?: string, pass?: string): Promise<RawSession> {
  const s = await RawSession.open(srv.port);
  open.push(s);
  if (user !== undefined) await s.login(user, pass);
  return s;
}

test('greeting shows the banner; commands before login get 530', async () => {
  const s = await session();
  const g = await s.read();
  assert.equal(g?.code, 220);
  assert.deepEqual(g?.lines, ['Welcome to the test archive', 'Second banner line']);
  for (const cmd of ['PWD', 'LIST', 'RETR hello.txt', 'CWD pub', 'PASV', 'STOR x']) {
    assert.equal((await s.cmd(cmd)).code, 530, cmd);
  }
  assert.equal((await s.cmd('SYST')).code, 215);
  assert.equal((await s.cmd('PASS x')).code, 503);
  assert.equal((await s.cmd('BOGUS')).code, 500);
  assert.equal((await s.cmd('')).code, 500);
  assert.equal((await s.cmd('QUIT')).code, 221);
  await s.waitClosed();
});

test('anonymous login: 230 with restrictions, .message of the root, ftp works too', async () => {
  for (const name of ['anonymous', 'ftp', 'ANONYMOUS']) {
    const s = await session();
    await s.read();
    assert.equal((await s.cmd(`USER ${name}`)).code, 331);
    const r = await s.cmd('PASS someone@example.com');
    assert.equal(r.code, 230);
    assert.match(r.lines.at(-1) ?? '', /restrictions apply/);
    assert.ok(r.lines.includes('Welcome, archive user.'), r.raw);
    s.close();
  }
});

test('CWD shows the directory .message; PWD quotes; CDUP and X-variants', async () => {
  const s = await session('anonymous', 'a@b.c');
  const r = await s.cmd('CWD docs');
  assert.equal(r.code, 250);
  assert.equal(r.lines[0], 'This is the docs directory.');
  assert.equal((await s.cmd('PWD')).raw, '257 "/docs" is the current directory.\r\n');
  assert.equal((await s.cmd('XPWD')).code, 257);
  assert.equal((await s.cmd('CDUP')).code, 250);
  assert.equal((await s.cmd('XCWD docs')).code, 250);
  assert.equal((await s.cmd('XCUP')).code, 250);
  assert.equal((await s.cmd('CWD nowhere')).code, 550);
  assert.equal((await s.cmd('CWD hello.txt')).code, 550);
  assert.equal((await s.cmd('CWD ../../..')).code, 250);
  assert.equal((await s.cmd('PWD')).lines[0], '"/" is the current directory.');
});

test('pipelined commands are answered in order', async () => {
  const s = await session('anonymous', 'a@b.c');
  s.write('NOOP\r\nSYST\r\nPWD\r\nTYPE I\r\nSIZE hello.txt\r\nMODE S\r\nSTRU F\r\n');
  const codes = [];
  for (let i = 0; i < 7; i++) codes.push((await s.read())?.code);
  assert.deepEqual(codes, [200, 215, 257, 200, 213, 200, 200]);
});

test('FEAT lists what works; HELP and SITE HELP; OPTS', async () => {
  const s = await session('anonymous', 'a@b.c');
  const feat = await s.cmd('FEAT');
  assert.equal(feat.code, 211);
  const features = feat.lines.map((l) => l.trim());
  for (const f of ['EPRT', 'EPSV', 'MDTM', 'MFMT', 'REST STREAM', 'SIZE', 'UTF8']) assert.ok(features.includes(f), f);
  assert.ok(features.some((l) => l.startsWith('MLST type*;size*;modify*;perm*;unique*;')));
  assert.ok(
    feat.raw
      .split('\r\n')
      .slice(1, -2)
      .every((l) => l.startsWith(' ')),
    'feature lines start with a space',
  );
  const help = await s.cmd('HELP');
  assert.equal(help.code, 214);
  assert.match(help.raw, /RETR/);
  assert.equal((await s.cmd('HELP RETR')).code, 214);
  assert.equal((await s.cmd('HELP NOPE')).code, 502);
  assert.equal((await s.cmd('SITE HELP')).code, 214);
  assert.equal((await s.cmd('SITE EXEC rm')).code, 504);
  assert.equal((await s.cmd('OPTS UTF8 ON')).code, 200);
  assert.equal((await s.cmd('OPTS MLST type;size;')).raw, '200 MLST OPTS type;size;\r\n');
  assert.equal((await s.cmd('OPTS FOO')).code, 501);
  assert.equal((await s.cmd('ACCT x')).code, 202);
  assert.equal((await s.cmd('ALLO 100')).code, 202);
  assert.equal((await s.cmd('MODE B')).code, 504);
  assert.equal((await s.cmd('STRU R')).code, 504);
  assert.equal((await s.cmd('TYPE E')).code, 504);
  assert.equal((await s.cmd('TYPE X')).code, 501);
  assert.equal((await s.cmd('TYPE L 8')).code, 200);
  assert.equal((await s.cmd('TYPE A N')).code, 200);
  assert.equal((await s.cmd('NOOP x')).code, 501);
  assert.equal((await s.cmd('RETR')).code, 501);
});

test('STAT: server status, and a listing over the control connection', async () => {
  const s = await session('anonymous', 'a@b.c');
  const st = await s.cmd('STAT');
  assert.equal(st.code, 211);
  assert.match(st.raw, /Logged in anonymously/);
  const ls = await s.cmd('STAT /docs');
  assert.equal(ls.code, 213);
  assert.match(ls.raw, /text\.txt\r\n/);
  assert.match(ls.raw, /fïlé with spaces\.txt\r\n/);
  assert.equal((await s.cmd('STAT /missing')).code, 550);
});

test('LIST, NLST (with globs and -a), MLSD, MLST, SIZE, MDTM', async () => {
  const s = await session('anonymous', 'a@b.c');
  const list = async (cmd: string) => {
    const data = await s.passive();
    const r1 = await s.cmd(cmd);
    if (r1.code !== 150) {
      data.destroy();
      return { code: r1.code, text: '' };
    }
    const text = (await readAll(data)).toString('utf8');
    const r2 = await s.read();
    return { code: r2?.code, text };
  };
  const l = await list('LIST');
  assert.equal(l.code, 226);
  assert.match(l.text, /^-rw-r--r-- +1 ftp +ftp +14 \w{3} [ \d]\d \d\d:\d\d hello\.txt\r$/m);
  assert.match(l.text, /^d[rwx-]{9} .* pub\r$/m);
  assert.doesNotMatch(l.text, /\.message/);
  assert.match((await list('LIST -la')).text, /\.message\r\n/);
  assert.match((await list('LIST -l docs')).text, /fïlé with spaces\.txt/);
  assert.deepEqual((await list('NLST')).text.split('\r\n').filter(Boolean).sort(), ['docs', 'hello.txt', 'incoming', 'pub']);
  assert.deepEqual((await list('NLST h*')).text, 'hello.txt\r\n');
  assert.deepEqual((await list('NLST docs/*.txt')).text.split('\r\n').filter(Boolean).sort(), ['docs/fïlé with spaces.txt', 'docs/text.txt']);
  assert.deepEqual((await list('NLST docs')).text.split('\r\n').filter(Boolean).sort(), ['fïlé with spaces.txt', 'text.txt']);
  assert.equal((await list('LIST nothing-here')).code, 550);
  const m = await list('MLSD pub');
  assert.equal(m.code, 226);
  assert.match(m.text, /^type=cdir;.* \.\r$/m);
  assert.match(m.text, /^type=file;size=65536;modify=\d{14};perm=r;unique=[0-9a-f.]+; data\.bin\r$/m);
  assert.equal((await list('MLSD hello.txt')).code, 501);
  const mlst = await s.cmd('MLST pub/data.bin');
  assert.equal(mlst.code, 250);
  assert.match(mlst.raw, /\r\n type=file;size=65536;modify=\d{14};perm=r;unique=[0-9a-f.]+; \/pub\/data\.bin\r\n250 End\r\n$/);
  assert.equal((await s.cmd('SIZE pub/data.bin')).raw, '213 65536\r\n');
  assert.equal((await s.cmd('SIZE pub')).code, 550);
  assert.equal((await s.cmd('SIZE nope')).code, 550);
  assert.match((await s.cmd('MDTM hello.txt')).raw, /^213 \d{14}\r\n$/);
});

test('RETR with REST, and TYPE A converts line endings', async () => {
  const s = await session('anonymous', 'a@b.c');
  const get = async (cmd: string) => {
    const data = await s.passive();
    const r1 = await s.cmd(cmd);
    assert.equal(r1.code, 150, r1.raw);
    const bytes = await readAll(data);
    assert.equal((await s.read())?.code, 226);
    return bytes;
  };
  assert.equal((await s.cmd('TYPE I')).code, 200);
  assert.equal((await get('RETR hello.txt')).toString(), 'Hello, world!\n');
  assert.equal((await s.cmd('REST 7')).code, 350);
  assert.equal((await get('RETR hello.txt')).toString(), 'world!\n');
  assert.equal((await s.cmd('REST 999')).code, 350);
  await s.passive().then((d) => d.destroy());
  assert.equal((await s.cmd('RETR hello.txt')).code, 554);
  assert.equal((await s.cmd('REST abc')).code, 501);
  assert.equal((await s.cmd('TYPE A')).code, 200);
  assert.equal((await get('RETR docs/text.txt')).toString(), 'one\r\ntwo\r\nthree\r\n');
  assert.equal((await get('RETR docs/fïlé with spaces.txt')).toString(), 'unicode content');
  assert.equal((await s.cmd('RETR hello.txt')).code, 425, 'no PASV/PORT first');
});

test('anonymous is read-only outside the drop box', async () => {
  const s = await session('anonymous', 'a@b.c');
  await s.passive().then((d) => d.destroy());
  for (const cmd of ['STOR new.txt', 'APPE hello.txt', 'DELE hello.txt', 'MKD newdir', 'RMD pub', 'RNFR hello.txt', 'MFMT 20200101000000 hello.txt', 'STOU']) {
    const r = await s.cmd(cmd);
    assert.equal(r.code, 550, `${cmd}: ${r.raw}`);
    assert.match(r.raw, /[Pp]ermission denied/);
  }
});

test('drop box: new files only; no listing, download, overwrite, rename or delete', async () => {
  const s = await session('anonymous', 'a@b.c');
  const put = async (cmd: string, body: string) => {
    const data = await s.passive();
    const r = await s.cmd(cmd);
    if (r.code !== 150) {
      data.destroy();
      return r.code;
    }
    data.end(body);
    return (await s.read())?.code;
  };
  assert.equal(await put('STOR incoming/report.txt', 'my report'), 226);
  const { readFile } = await import('node:fs/promises');
  assert.equal(await readFile(join(srv.root, 'incoming', 'report.txt'), 'utf8'), 'my report');
  assert.equal(await put('STOR incoming/report.txt', 'overwrite!'), 553);
  assert.equal(await readFile(join(srv.root, 'incoming', 'report.txt'), 'utf8'), 'my report');
  assert.equal((await s.cmd('CWD incoming')).code, 250);
  assert.equal(await put('STOR second.txt', 'two'), 226);
  for (const cmd of ['LIST', 'NLST', 'MLSD', 'RETR report.txt', 'DELE report.txt', 'RNFR report.txt', 'SIZE report.txt', 'MKD sub', 'APPE report.txt', 'STAT .']) {
    assert.equal((await s.cmd(cmd)).code, 550, cmd);
  }
  assert.equal((await s.cmd('REST 3')).code, 350);
  assert.equal((await s.cmd('STOR report.txt')).code, 550);
});

test('users: wrong password 530; reader may not write; alice may do everything', async () => {
  const bad = await session();
  await bad.read();
  await bad.cmd('USER alice');
  const r = await bad.cmd('PASS wrong');
  assert.equal(r.code, 530);
  await bad.cmd('USER nobody');
  assert.equal((await bad.cmd('PASS secret')).code, 530);

  const reader = await session('reader', 'secret');
  for (const cmd of ['STOR x', 'DELE report.txt', 'MKD d', 'RNFR report.txt', 'APPE report.txt']) {
    const x = await reader.cmd(cmd);
    assert.equal(x.code, 550, cmd);
    assert.match(x.raw, /Permission denied: this account may not/);
  }
  assert.equal((await reader.cmd('SIZE report.txt')).raw, '213 18\r\n');

  const alice = await session('alice', 'secret');
  assert.equal((await alice.cmd('USER reader')).code, 530);
  assert.equal((await alice.cmd('MKD "quoted" dir')).raw, '257 "/""quoted"" dir" created.\r\n');
  assert.equal((await alice.cmd('RMD "quoted" dir')).code, 250);
  assert.equal((await alice.cmd('MKD a')).code, 257);
  assert.equal((await alice.cmd('MKD a')).code, 550);
  const up = async (cmd: string, body: string) => {
    const data = await alice.passive();
    const x = await alice.cmd(cmd);
    assert.equal(x.code, 150, `${cmd}: ${x.raw}`);
    data.end(body);
    return (await alice.read())?.code;
  };
  assert.equal(await up('STOR a/f.txt', 'hello'), 226);
  assert.equal(await up('APPE a/f.txt', ' world'), 226);
  assert.equal((await alice.cmd('REST 5')).code, 350);
  assert.equal(await up('STOR a/f.txt', '!'), 226);
  const { readFile, readdir } = await import('node:fs/promises');
  assert.equal(await readFile(join(srv.aliceHome, 'a', 'f.txt'), 'utf8'), 'hello!');
  const stou = await alice.passive();
  const sr = await alice.cmd('STOU');
  assert.match(sr.raw, /^150 FILE: file\.[0-9a-f]{8}\r\n$/);
  stou.end('unique');
  assert.equal((await alice.read())?.code, 226);
  assert.equal((await alice.cmd('RNFR a/f.txt')).code, 350);
  assert.equal((await alice.cmd('RNTO a/g.txt')).code, 250);
  assert.equal((await alice.cmd('RNTO a/h.txt')).code, 503);
  assert.equal((await alice.cmd('MFMT 20200102030405 a/g.txt')).raw, '213 Modify=20200102030405; a/g.txt\r\n');
  assert.equal((await alice.cmd('MDTM a/g.txt')).raw, '213 20200102030405\r\n');
  assert.equal((await alice.cmd('RMD a')).code, 550);
  assert.equal((await alice.cmd('DELE a/g.txt')).code, 250);
  assert.equal((await alice.cmd('DELE a/g.txt')).code, 550);
  assert.equal((await alice.cmd('RMD a')).code, 250);
  assert.equal((await alice.cmd('RMD /')).code, 550);
  assert.equal((await alice.cmd('DELE ../../etc/passwd')).code, 550);
  assert.deepEqual(
    (await readdir(srv.aliceHome)).filter((n) => !n.startsWith('file.')),
    [],
  );
});

test('REIN logs out and keeps the connection', async () => {
  const s = await session('alice', 'secret');
  assert.equal((await s.cmd('REIN')).code, 220);
  assert.equal((await s.cmd('PWD')).code, 530);
  await s.cmd('USER anonymous');
  assert.equal((await s.cmd('PASS x@y')).code, 230);
});
