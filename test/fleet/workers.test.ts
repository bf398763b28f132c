/**
 * `workers = 2`: one `wharf serve` node, two worker processes sharing its
 * listeners. Real clients (basic-ftp, curl) see one server: 50 concurrent
 * sessions each upload and download byte-exact over PASV and EPSV, served
 * by both workers, each announcing ports of its own share of the range;
 * implicit FTPS, SFTP and the web view reach both workers too; the admin listener lists every worker's sessions, ends
 * one on whichever worker holds it and sums their metrics.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, enterPassiveModeIPv4 } from 'basic-ftp';
import { RawSession } from '../helpers/raw.js';
import { bytes, curl, sha256, tempDir } from '../helpers/clients.js';
import { makeCert } from '../helpers/peers.js';
import { wharfHostKey } from '../helpers/sftp.js';
import { until } from '../helpers/fleet.js';
import { adminFetch, NODE_HOST, startNode, workersWith } from '../helpers/workers.js';

/** Downloads `path` into memory. */
async function download(client: Client, path: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new PassThrough();
  sink.on('data', (c: Buffer) => chunks.push(c));
  await client.downloadTo(sink, path);
  return Buffer.concat(chunks);
}

/** One session: log in as alice, upload `data` as `name`, download it back; PASV when `pasv`, else EPSV. */
async function roundTrip(port: number, name: string, data: Buffer, pasv: boolean): Promise<{ up: string; down: string; passive: string }> {
  const client = new Client(20_000);
  try {
    await client.access({ host: NODE_HOST, port, user: 'alice', password: 'secret' });
    if (pasv) client.prepareTransfer = enterPassiveModeIPv4;
    await client.uploadFrom(Readable.from([data]), name);
    const back = await download(client, name);
    // The passive verb the transfers used, as the server answered it (227 PASV, 229 EPSV).
    const passive = (await client.send(pasv ? 'PASV' : 'EPSV')).code === 227 ? 'PASV' : 'EPSV';
    return { up: sha256(data), down: sha256(back), passive };
  } finally {
    client.close();
  }
}

test('workers = 2: 50 concurrent sessions upload and download byte-exact over PASV and EPSV, served by both workers', async (t) => {
  const node = await startNode(t, { server: 'max_connections_per_ip = 200\npassive_ports = [41200, 41299]\nnode = "dock-7"' });
  const sessions = Array.from({ length: 50 }, (_, i) => {
    const data = bytes(64 * 1024 + i * 4099, i + 1);
    return roundTrip(node.port, `file-${i}.bin`, data, i % 2 === 0).then((r) => ({ ...r, name: `file-${i}.bin`, data }));
  });
  const results = await Promise.all(sessions);
  for (const r of results) {
    assert.equal(r.down, r.up, `${r.name}: downloaded as uploaded`);
    assert.equal(sha256(await readFile(join(node.dir, 'alice', r.name))), r.up, `${r.name}: stored as uploaded`);
  }
  assert.deepEqual(new Set(results.map((r) => r.passive)), new Set(['PASV', 'EPSV']));
  // Every transfer is in the log, with the worker that served it: both did.
  await until(() => node.lines().filter((l) => l.event === 'transfer' && l.complete === true).length >= 100, 10_000, 'the transfers logged');
  const lines = node.lines();
  assert.deepEqual([...workersWith(lines, 'transfer')].sort(), [1, 2]);
  // Every line names the node ([server] node) and the worker; the primary's own lines say worker 0.
  assert.ok(lines.every((l) => l.node === 'dock-7'));
  assert.ok(lines.some((l) => l.event === 'workers-started' && l.worker === 0));
});

test('workers = 2: each worker announces passive ports from its own sub-range', async (t) => {
  const node = await startNode(t, { server: 'passive_ports = [41300, 41303]' });
  const seen = new Map<number, Set<number>>();
  for (let i = 0; i < 8; i++) {
    const s = await RawSession.open(node.port, NODE_HOST);
    await s.login('anonymous', `probe-${i}@example.com`);
    const r = await s.cmd('EPSV');
    const port = Number(/\(\|\|\|(\d+)\|\)/.exec(r.raw)?.[1]);
    s.close();
    await until(() => node.lines().some((l) => l.event === 'login' && l.ident === `probe-${i}@example.com`), 5000, 'the login logged');
    const worker = node.lines().find((l) => l.event === 'login' && l.ident === `probe-${i}@example.com`)?.worker as number;
    seen.set(worker, (seen.get(worker) ?? new Set()).add(port));
  }
  assert.deepEqual([...seen.keys()].sort(), [1, 2]);
  for (const p of seen.get(1) ?? []) assert.ok(p === 41300 || p === 41301, `worker 1 announced ${p}`);
  for (const p of seen.get(2) ?? []) assert.ok(p === 41302 || p === 41303, `worker 2 announced ${p}`);
});

test('workers = 2, [admin]: sessions of both workers are listed, DELETE reaches the right one, /metrics sums both', async (t) => {
  const node = await startNode(t, { admin: true, server: 'max_connections_per_ip = 50' });
  const admin = node.admin as string;
  const held: RawSession[] = [];
  t.after(() => held.forEach((s) => s.close()));
  for (let i = 0; i < 6; i++) {
    const s = await RawSession.open(node.port, NODE_HOST);
    await s.login('anonymous', `held-${i}@example.com`);
    held.push(s);
  }
  // Session ids: worker k hands out k, k + 64, ... so an id names its worker.
  const listed = (await (await adminFetch(admin, '/api/sessions')).json()) as { id: number; user: string }[];
  assert.equal(listed.length, 6);
  assert.deepEqual(new Set(listed.map((s) => ((s.id - 1) % 64) + 1)), new Set([1, 2]));
  // Ending a session of worker 2 closes that client (421), whichever worker holds it.
  const victim = listed.find((s) => ((s.id - 1) % 64) + 1 === 2) as { id: number };
  const ended = await adminFetch(admin, `/api/sessions/${victim.id}`, { method: 'DELETE' });
  assert.equal(ended.status, 200);
  assert.equal((await adminFetch(admin, '/api/sessions/999999', { method: 'DELETE' })).status, 404);
  await until(async () => ((await (await adminFetch(admin, '/api/sessions')).json()) as unknown[]).length === 5, 5000, 'the ended session gone');

  // A download on each of a few sessions: the aggregated counters count all of them.
  for (let i = 0; i < 4; i++) {
    const client = new Client(10_000);
    await client.access({ host: NODE_HOST, port: node.port, user: 'anonymous', password: `dl-${i}@example.com` });
    assert.equal((await download(client, 'hello.txt')).toString(), 'hello from the archive\n');
    client.close();
  }
  await until(() => workersWith(node.lines(), 'transfer').size === 2, 10_000, 'both workers served a download');
  let text = '';
  await until(
    async () => /^wharf_sessions\{protocol="ftp",kind="anonymous"\} 5$/m.test((text = await (await adminFetch(admin, '/metrics')).text())),
    5000,
    'the download sessions ended',
  );
  assert.match(text, /^wharf_transfers_total\{direction="download",result="ok"\} 4$/m);
  assert.match(text, /^wharf_logins_total\{result="ok"\} 10$/m);
  assert.match(text, /^wharf_sessions\{protocol="ftp",kind="anonymous"\} 5$/m);
  assert.match(text, /^wharf_bans_active 0$/m);
  // The status page's data: every worker's sessions, and the transfers both workers made.
  const status = (await (await adminFetch(admin, '/api/status')).json()) as { sessions: unknown[]; transfers: { path: string; ok: boolean }[] };
  assert.equal(status.sessions.length, 5);
  assert.deepEqual(
    status.transfers.map((x) => [x.path, x.ok]),
    Array.from({ length: 4 }, () => ['/hello.txt', true]),
  );
});

test('workers = 2: implicit FTPS, SFTP and the web view are shared too: curl reaches both workers over each', async (t) => {
  const { dir, cleanup } = await tempDir('wharf-workers-keys-');
  t.after(cleanup);
  const cert = await makeCert(dir);
  const hostKey = await wharfHostKey(dir);
  // A download hook records which node and worker saw each download.
  const seen = join(dir, 'hooks.txt');
  const hook = `[[hooks]]\nevent = "download"\ncommand = ["/bin/sh", "-c", "echo \\"$WHARF_PROTOCOL $WHARF_NODE $WHARF_WORKER\\" >> ${seen}"]\n`;
  const rest = `[tls]\ncert = "${cert.cert}"\nkey = "${cert.key}"\nimplicit_port = 0\n[sftp]\nport = 0\nhost_keys = ["${hostKey.key}"]\n[http]\nport = 0\n${hook}`;
  const node = await startNode(t, { rest, listeners: 4, server: 'max_connections_per_ip = 50\nnode = "dock-9"' });
  await writeFile(join(node.dir, 'alice', 'mine.txt'), 'alice’s file\n');
  const ftps = node.proc.port('ftps://');
  const sftp = node.proc.port('sftp://');
  const http = node.proc.port('http://');
  const fetchers: Record<string, () => Promise<string>> = {
    ftps: async () => (await curl(['-s', '-k', `ftps://${NODE_HOST}:${ftps}/hello.txt`])).stdout.toString(),
    sftp: async () => (await curl(['-s', '-k', '-u', 'alice:secret', `sftp://${NODE_HOST}:${sftp}/mine.txt`])).stdout.toString(),
    http: async () => (await curl(['-s', `http://${NODE_HOST}:${http}/hello.txt`])).stdout.toString(),
  };
  const want: Record<string, string> = { ftps: 'hello from the archive\n', sftp: 'alice’s file\n', http: 'hello from the archive\n' };
  for (const [protocol, get] of Object.entries(fetchers)) {
    const served = () => workersWith(node.lines(), 'transfer', (l) => l.protocol === protocol && l.complete === true);
    for (let i = 0; i < 10 && served().size < 2; i++) {
      assert.equal(await get(), want[protocol], `${protocol} download ${i}`);
      await until(() => node.lines().filter((l) => l.event === 'transfer' && l.protocol === protocol).length > i, 5000, `${protocol} transfer logged`);
    }
    assert.deepEqual([...served()].sort(), [1, 2], `${protocol}: both workers served`);
  }
  // Every download ran the hook once, told its node and worker (WHARF_NODE, WHARF_WORKER).
  const downloads = node.lines().filter((l) => l.event === 'transfer').length;
  const hookLines = async () => (await readFile(seen, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean);
  await until(async () => (await hookLines()).length === downloads, 15_000, 'every download hook ran');
  for (const protocol of ['ftps', 'sftp', 'http']) {
    assert.deepEqual(new Set((await hookLines()).filter((l) => l.startsWith(`${protocol} `))), new Set([`${protocol} dock-9 1`, `${protocol} dock-9 2`]));
  }
});
