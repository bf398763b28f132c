/**
 * Interrupted uploads to an `s3://` home: the client killed mid-upload
 * (Wharf aborts the multipart upload at once), and the server killed
 * mid-upload with SIGKILL (the multipart upload and its registry entry are
 * left, and the next start aborts them). Neither leaves an object under
 * the final name, and an older object there stays whole.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import path from 'node:path';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { startServer, secretHash } from '../helpers/server.js';
import { bytes, curl, tempDir } from '../helpers/clients.js';
import { RawSession } from '../helpers/raw.js';
import { waitForEvent } from '../helpers/events.js';
import { MiB, s3Overrides, startS3, type S3Server } from '../helpers/s3.js';

const BIN = resolve(import.meta.dirname, '../../../bin/wharf.js');

let s3: S3Server;

before(async () => {
  s3 = await startS3('wharf-interrupt');
});

after(async () => {
  await s3.stop();
});

/** Polls `check` until it is true (at most `ms`): for state outside this process (S3), which sends no events. */
async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await delay(50);
  }
}

/** Kills a child (if still running) and resolves once it has exited. */
async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}

test('a client gone mid-upload: the multipart upload is aborted, the old object stays whole', async (t) => {
  const prefix = 'killed-client';
  const srv = await startServer(s3Overrides(s3, prefix, await secretHash()));
  t.after(() => srv.close());
  const old = 'the complete old version';
  let r = await curl(['-u', 'alice:secret', '-T', '-', `ftp://127.0.0.1:${srv.port}/big.bin`], { input: old });
  assert.equal(r.code, 0);
  const s = await RawSession.open(srv.port);
  t.after(() => s.close());
  await s.login('alice', 'secret');
  await s.cmd('TYPE I');
  const data = await s.passive();
  data.on('error', () => undefined);
  assert.equal((await s.cmd('STOR big.bin')).code, 150);
  const chunk = bytes(MiB, 2);
  for (let i = 0; i < 13; i++) await new Promise<void>((res, rej) => data.write(chunk, (err) => (err ? rej(err) : res())));
  // 13 MiB sent: at least two 5 MiB parts are on their way to S3 (S3 sends no event: ask it).
  await until('a registered multipart upload', async () => (await s3.keys(`${prefix}/alice/.wharf-uploads/`)).length > 0);
  assert.equal((await s3.uploads(`${prefix}/`)).length, 1, 'a multipart upload is under way');
  assert.equal((await s3.keys(`${prefix}/alice/.wharf-uploads/`)).length, 1, 'and registered');
  // The client dies: both connections close (the control connection's end seen first; see the README on FTP's stream mode).
  const finished = waitForEvent(srv.server, 'transfer', (e) => e.path === '/big.bin', 30_000);
  s.socket.destroy();
  data.end();
  await once(data, 'close');
  assert.equal((await finished).ok, false, 'an upload whose control connection died was taken as complete');
  assert.deepEqual(await s3.uploads(`${prefix}/`), [], 'the multipart upload was aborted');
  assert.deepEqual(await s3.keys(`${prefix}/alice/.wharf-uploads/`), [], 'its registry entry is gone');
  r = await curl(['-u', 'alice:secret', `ftp://127.0.0.1:${srv.port}/big.bin`]);
  assert.equal(r.stdout.toString(), old, 'the old object is whole');
});

/** `wharf serve` with its JSON log (stderr) watched for a line. */
function serve(config: string): { child: ChildProcess; port: Promise<number>; logged: (event: string, ms: number) => Promise<Record<string, unknown>> } {
  const child = spawn(process.execPath, [BIN, 'serve', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stderr }).on('line', (text) => {
    try {
      lines.push(JSON.parse(text) as Record<string, unknown>);
    } catch {
      lines.push({ text });
    }
    for (const w of [...waiters]) w();
  });
  const port = new Promise<number>((res, rej) => {
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      out += d;
      const m = /listening on ftp:\/\/[^:]+:(\d+)/.exec(out);
      if (m) res(Number(m[1]));
    });
    child.once('exit', (code) => rej(new Error(`server exited (${code}) before listening: ${out} ${JSON.stringify(lines)}`)));
  });
  const logged = (event: string, ms: number) =>
    new Promise<Record<string, unknown>>((res, rej) => {
      const check = () => {
        const line = lines.find((l) => l.event === event);
        if (!line) return;
        clearTimeout(timer);
        waiters.delete(check);
        res(line);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        rej(new Error(`no "${event}" log line within ${ms} ms: ${JSON.stringify(lines)}`));
      }, ms);
      waiters.add(check);
      check();
    });
  return { child, port, logged };
}

test('the server killed mid-upload: nothing under the final name; the next start aborts the leftover upload', async (t) => {
  const prefix = 'killed-server';
  const { dir, cleanup } = await tempDir('wharf-s3-crash-');
  t.after(cleanup);
  const config = path.join(dir, 'wharf.toml');
  const home = `s3://${s3.bucket}/${prefix}/alice`;
  await fs.writeFile(
    config,
    `[server]\nport = 0\n[log]\nlevel = "info"\n[[users]]\nname = "alice"\npassword = "${await secretHash()}"\nhome = "${home}"\n${s3.toml(`part_size = ${5 * MiB}\n`)}`,
  );
  await fs.writeFile(path.join(dir, 'big.bin'), bytes(60 * MiB, 4));
  const first = serve(config);
  t.after(() => stop(first.child));
  const port = await first.port;
  const client = spawn('curl', ['-sS', '--limit-rate', '8M', '-u', 'alice:secret', '-T', path.join(dir, 'big.bin'), `ftp://127.0.0.1:${port}/big.bin`], { stdio: 'ignore' });
  t.after(() => stop(client));
  // The registry entry is written just after the multipart upload is created: wait for both.
  await until('a registered multipart upload', async () => (await s3.keys(`${prefix}/alice/.wharf-uploads/`)).length > 0);
  await stop(first.child);
  await stop(client);
  assert.equal((await s3.uploads(`${prefix}/`)).length, 1, 'the crash left the multipart upload');
  assert.equal((await s3.keys(`${prefix}/alice/.wharf-uploads/`)).length, 1, 'and its registry entry');
  assert.ok(!(await s3.keys(`${prefix}/`)).includes(`${prefix}/alice/big.bin`), 'no object under the final name');

  const second = serve(config);
  t.after(() => stop(second.child));
  await second.port;
  const swept = await second.logged('temp-swept', 30_000);
  assert.equal(swept.removed, 1);
  assert.deepEqual(await s3.uploads(`${prefix}/`), [], 'the leftover upload was aborted at start');
  assert.deepEqual(await s3.keys(`${prefix}/`), [], 'no object, no registry entry');
  await stop(second.child, 'SIGTERM');
  assert.equal(second.child.exitCode, 0);
});
