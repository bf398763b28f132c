/**
 * A fleet behind a real HAProxy (TCP mode): three Wharf nodes on
 * 127.0.0.11-13 sharing one redis-server and one directory, HAProxy on
 * 127.0.0.10 connecting to them from 127.0.0.9 with PROXY headers (v2 for
 * FTP, its passive ranges and SFTP; v1 for the web view), clients on
 * 127.0.0.5-7. Each node's passive range is forwarded to it by HAProxy and
 * announced as 127.0.0.10.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startServer, secretHash, type TestServer } from '../helpers/server.js';
import { RawSession } from '../helpers/raw.js';
import { startRedis } from '../helpers/redis.js';
import { freePorts, startHaproxy } from '../helpers/haproxy.js';
import { memoryLog, uniquePrefix, until, type MemoryLog } from '../helpers/fleet.js';
import { closedWithin, connectWithHeader, proxyV2 } from '../helpers/proxy.js';
import { curl, describe, run, sha256, tempDir } from '../helpers/clients.js';
import { SSH_OPTIONS, sshKeygen } from '../helpers/sftp.js';
import type { BanEvent, ConnectEvent, TransferEvent } from '../../src/events/events.js';
import type { SharedState } from '../../src/state/types.js';
import { generateSelfSigned } from '../../src/cli/genCert.js';

const BALANCER = '127.0.0.10';
const PROXY_SOURCE = '127.0.0.9';
const CLIENT = '127.0.0.5';

interface Fleet {
  nodes: TestServer[];
  logs: MemoryLog[];
  ftp: number;
  sftp: number;
  http: number;
  dir: string;
}

let f: Fleet;
/** What the set-up started, stopped last-first in `after` (even when the set-up failed half way). */
const started: (() => Promise<void>)[] = [];

function haproxyConfig(ftp: number, sftp: number, http: number, pasv: [number, number][]): string {
  const servers = (port: string, proto: string) => [1, 2, 3].map((i) => `  server n${i} 127.0.0.1${i}${port} ${proto}`).join('\n');
  const lines = [
    'global',
    '  maxconn 512',
    'defaults',
    '  mode tcp',
    '  timeout connect 5s',
    '  timeout client 60s',
    '  timeout server 60s',
    ...(
      [
        ['ftp', ftp, 'send-proxy-v2'],
        ['sftp', sftp, 'send-proxy-v2'],
        ['http', http, 'send-proxy'],
      ] as const
    ).flatMap(([name, port, proto]) => [
      `frontend ${name}`,
      `  bind ${BALANCER}:${port}`,
      `  default_backend ${name}`,
      `backend ${name}`,
      '  balance roundrobin',
      `  source ${PROXY_SOURCE}`,
      servers(`:${port}`, proto),
    ]),
    // Each node's own passive range, to that node (no port: the same one the client asked for).
    ...pasv.flatMap(([lo, hi], i) => [
      `frontend pasv${i + 1}`,
      `  bind ${BALANCER}:${lo}-${hi}`,
      `  default_backend pasv${i + 1}`,
      `backend pasv${i + 1}`,
      `  source ${PROXY_SOURCE}`,
      `  server n${i + 1} 127.0.0.1${i + 1} send-proxy-v2`,
    ]),
  ];
  return lines.join('\n') + '\n';
}

before(async () => {
  const { dir, cleanup } = await tempDir('wharf-fleet-');
  started.push(cleanup);
  const redis = await startRedis();
  started.push(() => redis.close());
  const base = await freePorts(3 + 15);
  const [ftp, sftp, http] = [base, base + 1, base + 2];
  const pasv: [number, number][] = [0, 1, 2].map((i) => [base + 3 + 5 * i, base + 7 + 5 * i]);
  const haproxy = await startHaproxy(dir, haproxyConfig(ftp, sftp, http, pasv));
  started.push(() => haproxy.close());
  const root = join(dir, 'anon');
  const home = join(dir, 'alice');
  await mkdir(join(root, 'incoming'), { recursive: true });
  await mkdir(home);
  await writeFile(join(root, 'hello.txt'), 'Hello, world!\n');
  await writeFile(join(home, 'report.txt'), 'quarterly numbers\n');
  const hostKey = await sshKeygen(dir, 'host_ed25519');
  const cert = await generateSelfSigned(dir);
  const prefix = uniquePrefix();
  const hash = await secretHash();
  const nodes: TestServer[] = [];
  const logs: MemoryLog[] = [];
  for (let i = 1; i <= 3; i++) {
    const host = `127.0.0.1${i}`;
    const log = memoryLog();
    const config = {
      server: {
        host,
        port: ftp,
        passive_ports: pasv[i - 1],
        passive_address: BALANCER,
        proxy_protocol: true,
        trusted_proxies: [`${PROXY_SOURCE}/32`],
        ban_threshold: 3,
        max_login_failures: 5,
      },
      anonymous: { enabled: true, root, upload_dir: 'incoming', max_connections: 2 },
      users: [{ name: 'alice', password: hash, home, permissions: ['*'] }],
      tls: { cert: cert.cert, key: cert.key },
      sftp: { port: sftp, host, host_keys: [hostKey.key], anonymous: true },
      http: { port: http, host },
      state: { redis: redis.url, key_prefix: prefix },
      log: { transfer_log: 'xfer.log' },
    };
    const node = await startServer(config, { logger: log.logger });
    started.push(() => node.close());
    nodes.push(node);
    logs.push(log);
  }
  f = { nodes, logs, ftp, sftp, http, dir };
});

after(async () => {
  while (started.length > 0) await started.pop()?.();
});

function stateOf(node: TestServer): SharedState {
  return (node.server as unknown as { state: SharedState }).state;
}

/** Waits until the fleet holds no connection (the previous test's are released everywhere). */
async function quiet(): Promise<void> {
  await until(async () => (await stateOf(f.nodes[0]!).counts()).total === 0, 10_000, 'the fleet is idle');
}

/** Collects one event kind from every node while `fn` runs; [node index, event][]. */
async function collect<E>(name: 'connect' | 'transfer' | 'ban', fn: () => Promise<void>): Promise<[number, E][]> {
  const seen: [number, E][] = [];
  const listeners = f.nodes.map((n, i) => {
    const l = (e: E) => seen.push([i, e]);
    n.server.on(name, l as never);
    return () => n.server.off(name, l as never);
  });
  try {
    await fn();
  } finally {
    listeners.forEach((off) => off());
  }
  return seen;
}

test('FTP through HAProxy: uploads land on different nodes, download byte-exact from every node; all see the client, not the proxy', async () => {
  await quiet();
  const local = join(f.dir, 'local');
  await mkdir(local, { recursive: true });
  const files = [1, 2, 3].map((i) => ({ name: `up-${i}.bin`, data: Buffer.alloc(200_000 + i * 1000, i * 37) }));
  for (const file of files) await writeFile(join(local, file.name), file.data);
  const url = (name: string) => `ftp://alice:secret@${BALANCER}:${f.ftp}/${name}`;
  const uploads = await collect<TransferEvent>('transfer', async () => {
    for (const file of files) {
      const r = await curl(['--interface', CLIENT, '-T', join(local, file.name), url(file.name)]);
      assert.equal(r.code, 0, describe(r));
    }
  });
  assert.equal(new Set(uploads.map(([i]) => i)).size, 3, 'one upload on each node');
  const downloads = await collect<TransferEvent>('transfer', async () => {
    for (const file of files) {
      for (let k = 0; k < 3; k++) {
        const r = await curl(['--interface', CLIENT, url(file.name)]);
        assert.equal(r.code, 0, describe(r));
        assert.equal(sha256(r.stdout), sha256(file.data), `${file.name} byte-exact`);
      }
    }
  });
  for (const file of files) {
    const served = new Set(downloads.filter(([, e]) => e.path === `/${file.name}`).map(([i]) => i));
    assert.equal(served.size, 3, `${file.name} downloaded from every node`);
  }
  for (const [, e] of [...uploads, ...downloads]) assert.equal(e.remote, CLIENT);
  const connects = f.logs.flatMap((l) => l.lines()).filter((l) => l.event === 'connect');
  assert.ok(connects.length >= 12);
  for (const l of connects) assert.deepEqual([l.remote, l.proxy], [CLIENT, PROXY_SOURCE]);
  assert.ok(
    f.logs.flatMap((l) => l.lines()).every((l) => l.remote !== PROXY_SOURCE),
    'the proxy is never `remote`',
  );
  // The xferlog is written as transfers end; wait for its twelve lines.
  const xferlog = async () => (await Promise.all(f.nodes.map((n) => readFile(join(n.dir, 'xfer.log'), 'utf8').catch(() => '')))).join('');
  await until(async () => (await xferlog()).trim().split('\n').length >= 12, 5000, 'xferlog lines');
  const lines = (await xferlog()).trim().split('\n');
  assert.equal(lines.length, 12);
  for (const line of lines) assert.match(line, new RegExp(` ${CLIENT.replaceAll('.', '\\.')} \\d+ /up-\\d\\.bin b _ [io] r alice ftp 0 \\* c$`));
});

test('a ban earned through HAProxy hits the client on every node, not the proxy', async () => {
  await quiet();
  const bans = await collect<BanEvent>('ban', async () => {
    const s = await RawSession.open(f.ftp, BALANCER, '127.0.0.6');
    assert.equal((await s.read())?.code, 220);
    for (let i = 0; i < 3; i++) {
      await s.cmd('USER alice');
      await s.cmd('PASS wrong');
    }
    s.close();
  });
  assert.deepEqual(
    bans.map(([, e]) => e.remote),
    ['127.0.0.6'],
  );
  try {
    for (let k = 0; k < 3; k++) {
      const again = await RawSession.open(f.ftp, BALANCER, '127.0.0.6');
      const r = await again.read();
      again.close();
      assert.equal(r?.code, 421, `connection ${k}`);
      assert.match(r?.raw ?? '', /failed logins/);
    }
    const other = await RawSession.open(f.ftp, BALANCER, CLIENT);
    assert.equal((await other.read())?.code, 220, 'another client through the same proxy is served');
    other.close();
  } finally {
    await stateOf(f.nodes[0]!).unban('127.0.0.6');
  }
});

test('the anonymous cap holds across the fleet through HAProxy', async (t) => {
  await quiet();
  const sessions: RawSession[] = [];
  t.after(() => sessions.forEach((s) => s.close()));
  const nodesUsed = await collect<ConnectEvent>('connect', async () => {
    for (let k = 0; k < 2; k++) {
      const s = await RawSession.open(f.ftp, BALANCER, '127.0.0.7');
      sessions.push(s);
      await s.login();
    }
    const third = await RawSession.open(f.ftp, BALANCER, '127.0.0.7');
    sessions.push(third);
    assert.equal((await third.read())?.code, 220);
    await third.cmd('USER anonymous');
    const r = await third.cmd('PASS x@y.z');
    assert.equal(r.code, 421);
    assert.match(r.raw, /Too many anonymous users \(the limit is 2\)/);
  });
  assert.equal(new Set(nodesUsed.map(([i]) => i)).size, 3, 'the three sessions were on three nodes');
});

test('explicit FTPS through HAProxy: TLS on the control and data connections comes after their PROXY headers', async () => {
  await quiet();
  const script = [
    'set net:max-retries 1',
    'set net:timeout 10',
    'set cmd:fail-exit yes',
    `set net:socket-bind-ipv4 ${CLIENT}`,
    'set ftp:ssl-force true',
    'set ftp:ssl-protect-data true',
    'set ssl:verify-certificate no',
    `open -u alice,secret ftp://${BALANCER}:${f.ftp}`,
    'cat report.txt',
    'ls',
  ].join('; ');
  const seen = await collect<TransferEvent>('transfer', async () => {
    const r = await run('lftp', ['-c', script], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, describe(r));
    assert.match(r.stdout.toString(), /quarterly numbers/);
  });
  assert.deepEqual(
    seen.map(([, e]) => [e.path, e.remote, e.protocol]),
    [['/report.txt', CLIENT, 'ftps']],
  );
});

test('SFTP through HAProxy (send-proxy-v2): OpenSSH sftp is seen as the client', async () => {
  await quiet();
  const seen = await collect<ConnectEvent>('connect', async () => {
    const r = await run(
      'sshpass',
      ['-p', 'secret', 'sftp', '-oBatchMode=no', '-oPubkeyAuthentication=no', `-oBindAddress=${CLIENT}`, ...SSH_OPTIONS, '-P', String(f.sftp), '-b', '-', `alice@${BALANCER}`],
      { input: 'ls\nget report.txt /dev/null\n', timeoutMs: 60_000 },
    );
    assert.equal(r.code, 0, describe(r));
  });
  assert.equal(seen.length, 1);
  const [[, e]] = seen as [[number, ConnectEvent]];
  assert.deepEqual([e.protocol, e.remote, e.proxy], ['sftp', CLIENT, PROXY_SOURCE]);
});

test('the web view through HAProxy (send-proxy v1): curl is seen as the client', async () => {
  await quiet();
  const seen = await collect<ConnectEvent>('connect', async () => {
    const r = await curl(['--interface', CLIENT, `http://${BALANCER}:${f.http}/hello.txt`]);
    assert.equal(r.code, 0, describe(r));
    assert.equal(r.stdout.toString(), 'Hello, world!\n');
  });
  assert.equal(seen.length, 1);
  const [[, e]] = seen as [[number, ConnectEvent]];
  assert.deepEqual([e.protocol, e.remote, e.proxy], ['http', CLIENT, PROXY_SOURCE]);
});

test('a client going around the balancer is refused, with or without a PROXY header', async () => {
  const node = '127.0.0.11';
  for (const header of [proxyV2({ address: '192.0.2.1', port: 1 }, { address: node, port: f.ftp }), Buffer.alloc(0)]) {
    for (const port of [f.ftp, f.sftp, f.http]) {
      const s = await connectWithHeader(node, port, header, CLIENT);
      let got = '';
      s.on('data', (d: Buffer) => (got += d.toString()));
      assert.equal(await closedWithin(s, 1000), true, `port ${port} closed`);
      assert.equal(got, '');
    }
  }
});
