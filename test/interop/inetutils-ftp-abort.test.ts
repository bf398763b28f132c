/**
 * Interop: Ctrl-C during a `get` in the classic inetutils `ftp` client
 * (Debian package inetutils-ftp), run on a real terminal (test/helpers/pty).
 *
 * The client aborts the BSD way: send("IAC IP IAC", MSG_OOB), then
 * "DM ABOR\r\n". The urgent byte (the second IAC) never reaches the
 * server on Linux, so Wharf reads IAC IP, a lone DM (0xF2) and ABOR. It
 * must answer 426 (the cut transfer) then 226 (the ABOR), and the next
 * command must get its own reply.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { startServer, type TestServer } from '../helpers/server.js';
import { inetutilsFtp, tempDir } from '../helpers/clients.js';
import { waitForEvent } from '../helpers/events.js';
import { PtyProcess } from '../helpers/pty.js';

/** Big enough, at the rate cap, to be still running when Ctrl-C comes (4 MiB at 64 KiB/s: a minute). */
const BIG = 4 * 1024 * 1024;

async function setup(t: TestContext): Promise<{ srv: TestServer; tmp: string }> {
  const srv = await startServer({ anonymous: { max_rate: 64 * 1024 } });
  t.after(() => srv.close());
  await fs.writeFile(path.join(srv.root, 'big.bin'), Buffer.alloc(BIG, 7));
  const { dir, cleanup } = await tempDir('wharf-inetftp-abort-');
  t.after(cleanup);
  return { srv, tmp: dir };
}

/** A reply line the client printed (verbose): at a line start, after its prompt, or after hash marks. */
const reply = (code: number) => new RegExp(`(?:^|ftp> |#)${code} `, 'm');

/** The reply codes the client printed, in order, without the data connection set-up (PASV, PORT). */
function codes(out: string): number[] {
  return [...out.matchAll(/(?:^|ftp> |#)(\d{3}) /gm)].map((m) => Number(m[1])).filter((c) => c !== 200 && c !== 227);
}

for (const passive of [true, false]) {
  const mode = passive ? 'passive' : 'active';

  test(`inetutils ftp (${mode}): Ctrl-C during get gets 426 then 226, and the session stays in step`, async (t) => {
    const { srv, tmp } = await setup(t);
    const ftp = await PtyProcess.start(inetutilsFtp(), ['-n', '-v', ...(passive ? ['-p'] : [])], { HOME: tmp });
    // Ended here, before the server's own after-hook runs its leak check.
    try {
      /** Types a command and waits for `expect` in what the client prints after it. */
      const command = async (line: string, expect: RegExp) => {
        const at = ftp.output.length;
        ftp.type(`${line}\n`);
        await ftp.waitFor(expect, at);
      };
      await command(`open 127.0.0.1 ${srv.port}`, reply(220));
      await command('user anonymous x@y', reply(230));
      await command('binary', reply(200));
      await command('hash', /Hash mark printing on/);
      const from = ftp.output.length;
      const started = waitForEvent(srv.server, 'transfer-start');
      const ended = waitForEvent(srv.server, 'transfer');
      ftp.type(`get big.bin ${path.join(tmp, 'big.bin')}\n`);
      await started;
      // Ctrl-C only once the client has read the 150 and data flows (a hash mark per KiB).
      await ftp.waitFor(/(?:^|ftp> )150 [^\n]*\n#/m, from);
      ftp.interrupt();
      const transfer = await ended;
      assert.equal(transfer.ok, false, 'the transfer was cut');
      assert.ok(transfer.bytes < BIG, `${transfer.bytes} bytes sent`);
      await ftp.waitFor(reply(226), from);
      // The next command reads its own reply.
      await command('pwd', reply(257));
      await command('bye', reply(221));
      assert.equal(await ftp.waitExit(), 0);
      const after = ftp.output.slice(from);
      assert.deepEqual(codes(after), [150, 426, 226, 257, 221], after);
    } finally {
      await ftp.close();
    }
  });
}
