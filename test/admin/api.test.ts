/**
 * The admin listener with real clients: curl for the API and /metrics,
 * Python's prometheus_client parser for the exposition format, paramiko and
 * a raw FTP connection for sessions to list and end, curl for a transfer
 * cut by the admin.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { bytes, curl, describe, run, sha256, tempDir } from '../helpers/clients.js';
import { waitForEvent } from '../helpers/events.js';
import { RawSession } from '../helpers/raw.js';
import { secretHash, startServer, type TestServer } from '../helpers/server.js';
import { holdParamiko, PYTHON, sshKeygen } from '../helpers/sftp.js';
import { certPair } from '../helpers/tls.js';

const TOKEN = 'secret';

/** A server with `[admin]` (token: the password "secret") and overrides. */
async function adminServer(t: { after(fn: () => Promise<void>): void }, overrides: Record<string, unknown> = {}): Promise<{ srv: TestServer; base: string }> {
  const admin = { port: 0, token: await secretHash(), ...(overrides['admin'] as Record<string, unknown> | undefined) };
  const srv = await startServer({ ...overrides, admin });
  t.after(() => srv.close());
  const a = srv.server.addresses.admin;
  assert.ok(a, 'the admin listener started');
  return { srv, base: `http://127.0.0.1:${a.port}` };
}

/** curl against the admin API: status code and body. */
async function api(base: string, method: string, p: string, opts: { token?: string | null; body?: unknown } = {}): Promise<{ status: number; body: string }> {
  const token = opts.token === undefined ? TOKEN : opts.token;
  const args = ['-s', '-o', '-', '-w', '\n%{http_code}', '-X', method];
  if (token !== null) args.push('-H', `Authorization: Bearer ${token}`);
  if (opts.body !== undefined) args.push('-H', 'Content-Type: application/json', '--data-binary', typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
  const r = await curl([...args, `${base}${p}`]);
  const text = r.stdout.toString();
  const cut = text.lastIndexOf('\n');
  return { status: Number(text.slice(cut + 1)), body: text.slice(0, cut) };
}

const PARSE = `
import sys, json
from prometheus_client.parser import text_string_to_metric_families
out = []
for fam in text_string_to_metric_families(sys.stdin.read()):
    for s in fam.samples:
        out.append({'name': s.name, 'labels': s.labels, 'value': s.value})
print(json.dumps(out))
`;

/** Parses exposition text with prometheus_client (Debian's python3-prometheus-client): the samples. */
async function parseMetrics(text: string): Promise<{ name: string; labels: Record<string, string>; value: number }[]> {
  const r = await run(PYTHON, ['-c', PARSE], { input: text, timeoutMs: 30_000 });
  assert.equal(r.code, 0, `the exposition text does not parse: ${r.stderr}`);
  return JSON.parse(r.stdout.toString()) as { name: string; labels: Record<string, string>; value: number }[];
}

function sample(samples: { name: string; labels: Record<string, string>; value: number }[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

test('every request needs the bearer token (401 otherwise); metrics_public opens /metrics only', async (t) => {
  const { base } = await adminServer(t);
  for (const token of [null, 'wrong', '']) assert.equal((await api(base, 'GET', '/api/sessions', { token })).status, 401, String(token));
  assert.equal((await api(base, 'GET', '/metrics', { token: null })).status, 401);
  const ok = await api(base, 'GET', '/api/sessions');
  assert.equal(ok.status, 200);
  assert.deepEqual(JSON.parse(ok.body), []);
  assert.equal((await api(base, 'GET', '/nope')).status, 404);
  assert.equal((await api(base, 'PUT', '/api/bans')).status, 405);
  const open = await adminServer(t, { admin: { metrics_public: true } });
  assert.equal((await api(open.base, 'GET', '/metrics', { token: null })).status, 200);
  assert.equal((await api(open.base, 'GET', '/api/sessions', { token: null })).status, 401);
});

test('/metrics parses and counts what clients did: logins, transfers and bytes, sessions, replies', async (t) => {
  const { srv, base } = await adminServer(t);
  const data = await fs.readFile(path.join(srv.root, 'pub', 'data.bin'));
  const get = await curl([`ftp://127.0.0.1:${srv.port}/pub/data.bin`, '-o', '-']);
  assert.equal(sha256(get.stdout), sha256(data));
  const upload = bytes(100_000, 9);
  const src = path.join(srv.dir, 'up.bin');
  await fs.writeFile(src, upload);
  assert.equal((await curl(['-T', src, `ftp://alice:secret@127.0.0.1:${srv.port}/up.bin`])).code, 0);
  assert.notEqual((await curl([`ftp://alice:wrong@127.0.0.1:${srv.port}/`])).code, 0);
  const held = await RawSession.open(srv.port);
  t.after(() => held.close());
  await held.login();
  const r = await api(base, 'GET', '/metrics');
  assert.equal(r.status, 200);
  const samples = await parseMetrics(r.body);
  assert.equal(sample(samples, 'wharf_transfers_total', { direction: 'download', result: 'ok' }), 1);
  assert.equal(sample(samples, 'wharf_transfers_total', { direction: 'upload', result: 'ok' }), 1);
  assert.equal(sample(samples, 'wharf_transfer_bytes_total', { direction: 'download' }), data.length);
  assert.equal(sample(samples, 'wharf_transfer_bytes_total', { direction: 'upload' }), upload.length);
  assert.equal(sample(samples, 'wharf_logins_total', { result: 'ok' }), 3);
  assert.equal(sample(samples, 'wharf_logins_total', { result: 'failed' }), 1);
  assert.equal(sample(samples, 'wharf_sessions', { protocol: 'ftp', kind: 'anonymous' }), 1);
  assert.equal(sample(samples, 'wharf_transfer_duration_seconds_count', { direction: 'download' }), 1);
  assert.ok((sample(samples, 'wharf_ftp_replies_total', { class: '5xx' }) ?? 0) >= 1);
  assert.ok((sample(samples, 'wharf_ftp_replies_total', { class: '2xx' }) ?? 0) >= 6);
  assert.equal(sample(samples, 'wharf_bans_active'), 0);
  assert.ok(
    samples.some((s) => s.name === 'wharf_process_resident_memory_bytes'),
    'Node process metrics',
  );
  assert.ok(
    samples.every((s) => !('user' in s.labels) && !('address' in s.labels) && !('remote' in s.labels)),
    'no per-user or per-address labels',
  );
});

test('sessions: FTP and SFTP sessions are listed; DELETE ends one with 421; unknown and malformed ids are 404 and 400', async (t) => {
  const keys = await tempDir('wharf-admin-keys-');
  t.after(() => keys.cleanup());
  const key = await sshKeygen(keys.dir, 'host');
  const { srv, base } = await adminServer(t, { sftp: { port: 0, host_keys: [key.key] } });
  const ftp = await RawSession.open(srv.port);
  t.after(() => ftp.close());
  await ftp.login('alice', 'secret');
  await ftp.cmd('CWD /');
  const sftp = holdParamiko(`t, s = connect(sys.argv[1])\nout(step='in')\nsys.stdin.read()\n`, [srv.server.addresses.sftp?.port ?? 0]);
  t.after(() => sftp.kill());
  await sftp.waitFor(/"in"/);
  const list = JSON.parse((await api(base, 'GET', '/api/sessions')).body) as { id: number; user: string; protocol: string; address: string; cwd: string; transfer: unknown }[];
  assert.deepEqual(
    list.map((s) => [s.user, s.protocol, s.address, s.cwd, s.transfer]),
    [
      ['alice', 'ftp', '127.0.0.1', '/', null],
      ['alice', 'sftp', '127.0.0.1', '/', null],
    ],
  );
  const id = list[0]?.id ?? 0;
  const del = await api(base, 'DELETE', `/api/sessions/${id}`);
  assert.equal(del.status, 200, del.body);
  const last = await ftp.read(10_000);
  assert.equal(last?.code, 421);
  assert.equal((await api(base, 'DELETE', `/api/sessions/${id}`)).status, 404);
  const bad = await api(base, 'DELETE', '/api/sessions/abc');
  assert.equal(bad.status, 400);
  assert.match((JSON.parse(bad.body) as { error: string }).error, /number/);
  const sftpId = list[1]?.id ?? 0;
  const gone = waitForEvent(srv.server, 'disconnect', (e) => e.session === sftpId);
  assert.equal((await api(base, 'DELETE', `/api/sessions/${sftpId}`)).status, 200);
  assert.equal((await gone).protocol, 'sftp');
  assert.deepEqual(JSON.parse((await api(base, 'GET', '/api/sessions')).body), []);
  await sftp.kill();
  ftp.close();
});

test('a session ended during an upload leaves no half file (curl)', async (t) => {
  const { srv, base } = await adminServer(t);
  const src = path.join(srv.dir, 'big.bin');
  await fs.writeFile(src, bytes(8_000_000, 4));
  const started = waitForEvent(srv.server, 'transfer-start');
  const ended = waitForEvent(srv.server, 'transfer');
  const upload = curl(['-T', src, `ftp://alice:secret@127.0.0.1:${srv.port}/big.bin`, '--limit-rate', '500K']);
  await started;
  const [session] = JSON.parse((await api(base, 'GET', '/api/sessions')).body) as { id: number; transfer: { path: string; direction: string } | null }[];
  assert.equal(session?.transfer?.path, '/big.bin');
  assert.equal(session?.transfer?.direction, 'upload');
  assert.equal((await api(base, 'DELETE', `/api/sessions/${session?.id ?? 0}`)).status, 200);
  const r = await upload;
  assert.notEqual(r.code, 0, describe(r));
  assert.equal((await ended).ok, false);
  assert.deepEqual(await fs.readdir(srv.aliceHome), [], 'nothing under the name, no temporary left');
});

test('bans: add, list, lift; a banned address is refused until lifted; bad input is 400 with a JSON message', async (t) => {
  const { srv, base } = await adminServer(t);
  for (const body of ['{', '[]', { address: 'not-an-ip' }, { address: '203.0.113.9', seconds: -1 }]) {
    const r = await api(base, 'POST', '/api/bans', { body });
    assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.body}`);
    assert.equal(typeof (JSON.parse(r.body) as { error?: unknown }).error, 'string');
  }
  assert.equal((await api(base, 'POST', '/api/bans', { body: { address: '127.0.0.1', seconds: 600 } })).status, 201);
  const bans = JSON.parse((await api(base, 'GET', '/api/bans')).body) as { address: string }[];
  assert.deepEqual(
    bans.map((b) => b.address),
    ['127.0.0.1'],
  );
  const refused = await curl(['-v', `ftp://127.0.0.1:${srv.port}/`]);
  assert.notEqual(refused.code, 0, 'banned');
  assert.equal((await api(base, 'DELETE', '/api/bans/127.0.0.1')).status, 200);
  assert.equal((await api(base, 'DELETE', '/api/bans/127.0.0.1')).status, 404);
  const ok = await curl([`ftp://127.0.0.1:${srv.port}/`, '-l']);
  assert.equal(ok.code, 0, describe(ok));
});

test("[admin] tls = true: HTTPS with [tls]'s certificate (curl --cacert), the token still required; plain HTTP gets nothing", async (t) => {
  const cert = await certPair(t);
  const srv = await startServer({ tls: { cert: cert.cert, key: cert.key }, admin: { port: 0, token: await secretHash(), tls: true } });
  t.after(() => srv.close());
  const a = srv.server.addresses.admin;
  assert.equal(a?.secure, true);
  const url = `https://127.0.0.1:${a?.port ?? 0}/api/sessions`;
  const ok = await curl(['--cacert', cert.cert, '-H', `Authorization: Bearer ${TOKEN}`, '-w', '\n%{http_code}', url]);
  assert.equal(ok.code, 0, describe(ok));
  assert.match(ok.stdout.toString(), /^\[\]\n200$/);
  const denied = await curl(['--cacert', cert.cert, '-o', '/dev/null', '-w', '%{http_code}', url]);
  assert.equal(denied.stdout.toString(), '401');
  assert.notEqual((await curl([`http://127.0.0.1:${a?.port ?? 0}/api/sessions`])).code, 0);
});
