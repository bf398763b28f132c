/**
 * `wharf serve` with `[http]`: the extra listening line (http:// or
 * https://), downloads in the JSON log and the xferlog like FTP's, and the
 * config's problems about `[http]` as one clear line each.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { describe, run, tempDir } from '../helpers/clients.js';
import { curl } from '../helpers/http.js';
import { certPair } from '../helpers/tls.js';

const BIN = path.resolve(import.meta.dirname, '../../../bin/wharf.js');

/** Starts `wharf serve --config FILE`; resolves with the listening lines once the last expected one is printed. */
async function serve(t: TestContext, config: string, lines: number): Promise<{ out: string[]; stderr: () => string; stop: () => Promise<number | null> }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => void child.kill('SIGKILL'));
  let out = '';
  let err = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => (err += d));
  child.stdout.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening lines: ${out} ${err}`)), 20_000);
    child.stdout.on('data', (d: string) => {
      out += d;
      if (out.split('\n').length > lines) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`exited early: ${out} ${err}`));
    });
  });
  return {
    out: out.trimEnd().split('\n'),
    stderr: () => err,
    stop: async () => {
      const exited = once(child, 'exit') as Promise<[number | null]>;
      child.kill('SIGTERM');
      return (await exited)[0];
    },
  };
}

async function setup(t: TestContext): Promise<string> {
  const { dir, cleanup } = await tempDir('wharf-serve-http-');
  t.after(cleanup);
  await fs.mkdir(path.join(dir, 'root', 'incoming'), { recursive: true });
  await fs.writeFile(path.join(dir, 'root', 'hello.txt'), 'Hello, web!\n');
  return dir;
}

test('serve prints the http:// line; a download is in the JSON log and the xferlog', async (t) => {
  const dir = await setup(t);
  const config = path.join(dir, 'wharf.toml');
  await fs.writeFile(
    config,
    '[server]\nhost = "127.0.0.1"\nport = 0\n[anonymous]\nroot = "root"\nupload_dir = "incoming"\n[http]\nport = 0\n[log]\nlevel = "info"\ntransfer_log = "xfer.log"\n',
  );
  const s = await serve(t, config, 2);
  assert.match(s.out[0] ?? '', /^wharf listening on ftp:\/\/127\.0\.0\.1:\d+$/);
  const m = /^wharf listening on http:\/\/127\.0\.0\.1:(\d+)$/.exec(s.out[1] ?? '');
  assert.ok(m, s.out.join('\n'));
  const r = await curl([`http://127.0.0.1:${m[1]}/hello.txt`]);
  assert.equal(r.stdout.toString(), 'Hello, web!\n', describe(r));
  assert.equal(await s.stop(), 0);
  const log = s
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const transfer = log.find((l) => l.event === 'transfer');
  assert.ok(transfer, s.stderr());
  assert.equal(transfer.protocol, 'http');
  assert.equal(transfer.user, 'anonymous');
  assert.equal(transfer.direction, 'download');
  assert.equal(transfer.path, '/hello.txt');
  assert.equal(transfer.bytes, 12);
  assert.equal(transfer.complete, true);
  assert.ok(log.some((l) => l.event === 'connect' && l.protocol === 'http'));
  const xfer = await fs.readFile(path.join(dir, 'xfer.log'), 'utf8');
  assert.match(xfer, / 127\.0\.0\.1 12 \/hello\.txt b _ o a anonymous http 0 \* c\n$/);
});

test('serve prints https:// with [http] tls = true', async (t) => {
  const dir = await setup(t);
  const cert = await certPair(t);
  const config = path.join(dir, 'wharf.toml');
  await fs.writeFile(
    config,
    `[server]\nhost = "127.0.0.1"\nport = 0\n[tls]\ncert = "${cert.cert}"\nkey = "${cert.key}"\n[anonymous]\nroot = "root"\n[http]\nport = 0\ntls = true\n[log]\nlevel = "silent"\n`,
  );
  const s = await serve(t, config, 2);
  const m = /^wharf listening on https:\/\/127\.0\.0\.1:(\d+)$/.exec(s.out[1] ?? '');
  assert.ok(m, s.out.join('\n'));
  const r = await curl(['--cacert', cert.cert, `https://127.0.0.1:${m[1]}/hello.txt`]);
  assert.equal(r.stdout.toString(), 'Hello, web!\n', describe(r));
  assert.equal(await s.stop(), 0);
});

test('[http] problems: no anonymous root, tls without [tls], a port in use: exit 2 with one line', async (t) => {
  const dir = await setup(t);
  const config = path.join(dir, 'bad.toml');
  const check = (args: string[]) => run(process.execPath, [BIN, ...args], { timeoutMs: 20_000 });
  await fs.writeFile(config, '[http]\nport = 8080\n');
  let r = await check(['check-config', '--config', config]);
  assert.equal(r.code, 2, describe(r));
  assert.match(r.stderr, /bad\.toml: http: the web view serves the anonymous root: it needs \[anonymous\] enabled\n$/);
  await fs.writeFile(config, '[anonymous]\nroot = "root"\n[http]\ntls = true\n');
  r = await check(['check-config', '--config', config]);
  assert.equal(r.code, 2, describe(r));
  assert.match(r.stderr, /bad\.toml: http\.tls: HTTPS uses \[tls\]'s certificate/);
  await fs.writeFile(config, '[anonymous]\nroot = "root"\n[http]\nport = 8080\nbogus = 1\n');
  r = await check(['check-config', '--config', config]);
  assert.match(r.stderr, /http: unknown setting "bogus"/);
  const blocker = net.createServer();
  blocker.listen(0, '127.0.0.1');
  await once(blocker, 'listening');
  t.after(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
  const port = (blocker.address() as net.AddressInfo).port;
  await fs.writeFile(config, `[server]\nhost = "127.0.0.1"\nport = 0\n[anonymous]\nroot = "root"\n[http]\nport = ${port}\n`);
  r = await check(['serve', '--config', config]);
  assert.equal(r.code, 2, describe(r));
  assert.equal(r.stderr, `wharf: http.port: 127.0.0.1:${port} is already in use\n`);
});
