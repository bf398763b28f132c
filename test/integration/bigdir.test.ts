import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startServer } from '../helpers/server.js';
import { RawSession, readAll } from '../helpers/raw.js';

test('LIST, NLST and MLSD of a directory of 20,000 entries are complete', async (t) => {
  const srv = await startServer();
  t.after(() => srv.close());
  const dir = join(srv.root, 'many');
  await mkdir(dir);
  const N = 20000;
  for (let i = 0; i < N; i += 500) {
    await Promise.all(Array.from({ length: Math.min(500, N - i) }, (_, j) => writeFile(join(dir, `f${String(i + j).padStart(6, '0')}`), '')));
  }
  const s = await RawSession.open(srv.port);
  t.after(() => s.close());
  await s.login();
  for (const [cmd, re] of [
    ['LIST many', /^-rw-r--r-- .* f\d{6}$/],
    ['NLST many', /^f\d{6}$/],
    ['MLSD many', /^type=file;size=0;.* f\d{6}$/],
  ] as const) {
    const data = await s.passive();
    assert.equal((await s.cmd(cmd)).code, 150);
    const lines = (await readAll(data))
      .toString()
      .split('\r\n')
      .filter((l) => l && !l.startsWith('type=cdir'));
    assert.equal((await s.read())?.code, 226);
    assert.equal(lines.length, N, cmd);
    assert.ok(
      lines.every((l) => re.test(l)),
      cmd,
    );
    assert.equal(new Set(lines).size, N);
  }
});
