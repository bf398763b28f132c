/**
 * `npm run soak`: for a bounded time, 200 hostile clients (garbage, floods,
 * slowloris, password guessing, bounce attempts, stalled transfers, path
 * escapes) run against a Wharf server beside normal clients that upload,
 * download and verify files. Reports the normal clients' success rate, the
 * server's RSS over time and any lost or corrupted file; exits non-zero on
 * any loss, corruption or failed normal transfer.
 *
 * Environment: SOAK_SECONDS (default 60), SOAK_HOSTILE (200), SOAK_NORMAL (8).
 * Loopback only: hostile clients use source addresses 127.0.0.2-127.0.0.201.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { hashPassword } from '../src/auth/password.js';
import { connect } from '../src/client/index.js';
import { fromBuffer, toBuffer } from '../src/client/streams.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const HOSTILE = Number(process.env.SOAK_HOSTILE ?? 200);
const NORMAL = Number(process.env.SOAK_NORMAL ?? 8);
const BIN = resolve(import.meta.dirname, '../../bin/wharf.js');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Starts the server; resolves with its pid and port. */
async function startServer(config: string) {
  const child = spawn(process.execPath, [BIN, 'serve', '--config', config], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  const port = await new Promise<number>((res, rej) => {
    child.stdout.on('data', (d: string) => {
      out += d;
      const m = /listening on ftp:\/\/[^:]+:(\d+)/.exec(out);
      if (m) res(Number(m[1]));
    });
    child.once('exit', (code) => rej(new Error(`server exited (${code})`)));
  });
  return { child, port };
}

async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

/** One hostile behaviour on one socket; resolves when the server or the deadline ends it. */
function hostile(port: number, source: string, kind: number, deadline: number): Promise<void> {
  return new Promise((res) => {
    const s: Socket = netConnect({ port, host: '127.0.0.1', localAddress: source });
    const timers: NodeJS.Timeout[] = [];
    const end = () => {
      timers.forEach(clearInterval);
      s.destroy();
      res();
    };
    s.on('error', end);
    s.on('close', end);
    s.on('data', () => undefined);
    const every = (ms: number, fn: () => void) => timers.push(setInterval(() => (Date.now() > deadline ? end() : fn()), ms));
    const lines: string[][] = [
      ['USER root', 'PASS toor', 'USER admin', 'PASS admin', 'USER alice', 'PASS 123456'],
      ['USER anonymous', 'PASS x@y', 'PORT 127,0,0,1,0,22', 'EPRT |1|127.0.0.5|8080|', 'CWD ../../../../etc', 'RETR ../../etc/passwd', 'LIST /../..', 'PASV', 'PASV', 'EPSV'],
      ['USER anonymous', 'PASS x@y', 'EPSV', 'RETR pub/seed.bin'],
      ['USER anonymous', 'PASS x@y', 'CWD incoming', 'EPSV', 'STOR stall.bin'],
    ];
    s.once('connect', () => {
      switch (kind % 7) {
        case 0: // random garbage
          every(50, () => s.write(randomBytes(512)));
          break;
        case 1: // overlong line flood
          every(20, () => s.write('A'.repeat(8192)));
          break;
        case 2: // slowloris: one byte a second, never a full line
          every(1000, () => s.write('N'));
          break;
        case 3: // command flood without reading replies
          s.pause();
          every(10, () => s.write('NOOP\r\n'.repeat(200)));
          break;
        default: {
          // scripted abuse, repeated
          const script = lines[kind % lines.length] as string[];
          every(200, () => s.write(script.map((l) => l + '\r\n').join('')));
        }
      }
    });
    timers.push(setTimeout(end, Math.max(0, deadline - Date.now())));
  });
}

interface NormalStats {
  ok: number;
  failed: number;
  uploaded: Map<string, string>;
  errors: string[];
}

async function normalClient(port: number, id: number, deadline: number, seed: Buffer, stats: NormalStats): Promise<void> {
  let round = 0;
  while (Date.now() < deadline) {
    round++;
    const name = `c${id}-r${round}.bin`;
    const body = randomBytes(64 * 1024 + Math.floor(Math.random() * 1024 * 1024));
    try {
      const user = await connect({ host: '127.0.0.1', port, user: 'alice', password: 'secret', timeout: 30_000 });
      try {
        await user.upload(fromBuffer(body), name);
        stats.uploaded.set(name, sha(body));
        const back = toBuffer();
        await user.download(name, back);
        if (sha(back.data()) !== sha(body)) throw new Error(`${name}: downloaded bytes differ`);
      } finally {
        await user.close().catch(() => undefined);
      }
      const anon = await connect({ host: '127.0.0.1', port, timeout: 30_000 });
      try {
        const got = toBuffer();
        await anon.download('pub/seed.bin', got);
        if (sha(got.data()) !== sha(seed)) throw new Error('seed.bin: downloaded bytes differ');
      } finally {
        await anon.close().catch(() => undefined);
      }
      stats.ok++;
    } catch (err) {
      stats.failed++;
      stats.errors.push(`client ${id} round ${round}: ${(err as Error).message}`);
    }
  }
}

async function main(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-soak-'));
  try {
    await mkdir(join(dir, 'pub', 'pub'), { recursive: true });
    await mkdir(join(dir, 'pub', 'incoming'));
    await mkdir(join(dir, 'alice'));
    const seed = randomBytes(2 * 1024 * 1024);
    await writeFile(join(dir, 'pub', 'pub', 'seed.bin'), seed);
    const config = join(dir, 'wharf.toml');
    await writeFile(
      config,
      [
        '[server]',
        'port = 0',
        'max_connections = 2000',
        'max_connections_per_ip = 50',
        'idle_timeout = 20',
        'login_timeout = 10',
        'data_timeout = 10',
        '[anonymous]',
        'root = "pub"',
        'upload_dir = "incoming"',
        'max_connections = 500',
        '[log]',
        'level = "silent"',
        '[[users]]',
        'name = "alice"',
        `password = "${await hashPassword('secret')}"`,
        'home = "alice"',
      ].join('\n') + '\n',
    );
    const { child, port } = await startServer(config);
    const deadline = Date.now() + SECONDS * 1000;
    const rss: number[] = [];
    const sampler = setInterval(() => void rssKiB(child.pid!).then((k) => rss.push(k)), 1000);
    const stats: NormalStats = { ok: 0, failed: 0, uploaded: new Map(), errors: [] };
    const hostiles = Array.from({ length: HOSTILE }, async (_, i) => {
      for (let round = 0; Date.now() < deadline && round < 10_000; round++) {
        await hostile(port, `127.0.0.${2 + (i % 200)}`, i + round, deadline);
      }
    });
    const normals = Array.from({ length: NORMAL }, (_, i) => normalClient(port, i, deadline, seed, stats));
    await Promise.all([...hostiles, ...normals]);
    clearInterval(sampler);
    // Every file a normal client was told was stored must be there, intact.
    let lost = 0;
    for (const [name, digest] of stats.uploaded) {
      const content = await readFile(join(dir, 'alice', name)).catch(() => null);
      if (!content || sha(content) !== digest) {
        lost++;
        stats.errors.push(`${name}: ${content ? 'corrupted' : 'lost'}`);
      }
    }
    child.kill('SIGTERM');
    await once(child, 'exit');
    const total = stats.ok + stats.failed;
    const rate = total === 0 ? 0 : (100 * stats.ok) / total;
    console.log(`soak: ${SECONDS} s, ${HOSTILE} hostile clients, ${NORMAL} normal clients`);
    console.log(`normal rounds: ${stats.ok} ok, ${stats.failed} failed (${rate.toFixed(2)}% success)`);
    console.log(`files verified: ${stats.uploaded.size}, lost or corrupted: ${lost}`);
    console.log(`server RSS (MiB) per second: ${rss.map((k) => (k / 1024).toFixed(0)).join(' ')}`);
    if (rss.length > 0)
      console.log(`server RSS min/max/last: ${(Math.min(...rss) / 1024).toFixed(1)} / ${(Math.max(...rss) / 1024).toFixed(1)} / ${((rss.at(-1) ?? 0) / 1024).toFixed(1)} MiB`);
    for (const e of stats.errors.slice(0, 20)) console.log(`  ${e}`);
    return lost > 0 || stats.failed > 0 || total === 0 ? 1 : 0;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
