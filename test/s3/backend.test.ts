/**
 * S3Vfs beyond the contract, on s3rver: multipart copies (renames and MFMT
 * of objects above the copy threshold, made small here), a directory
 * rename failing part-way (the FTP reply says how far it got), and
 * recover() aborting only the leftover uploads of this machine's dead
 * processes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateMultipartUploadCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Client, type FTPError } from 'basic-ftp';
import { S3Vfs } from '../../src/vfs/s3/s3Vfs.js';
import { INTENT_WINDOW_MS, standsFor } from '../../src/vfs/s3/registry.js';
import { assertContent, namesIn, putFile } from '../../src/vfs/contract/files.js';
import { secretHash, startServer } from '../helpers/server.js';
import { bytes } from '../helpers/clients.js';
import { MiB, startS3, type S3Server } from '../helpers/s3.js';

let s3: S3Server;

before(async () => {
  s3 = await startS3('wharf-backend');
});

after(async () => {
  await s3.stop();
});

test('objects above the copy threshold are copied in parts: rename and MFMT keep them byte-exact', async () => {
  const vfs = S3Vfs.fromUrl(`s3://${s3.bucket}/copy`, { settings: s3.settings, tuning: { copyThreshold: 6 * MiB, copyPartSize: 5 * MiB }, hostTag: 'copy' });
  try {
    const data = bytes(13 * MiB + 3, 9);
    await putFile(vfs, '/big.bin', data);
    await vfs.mkdir('/d');
    await vfs.rename('/big.bin', '/d/moved.bin');
    await assertContent(vfs, '/d/moved.bin', data);
    const when = new Date(Date.UTC(1999, 11, 31, 23, 59, 58));
    await vfs.setMtime('/d/moved.bin', when);
    assert.equal((await vfs.stat('/d/moved.bin')).mtime.getTime(), when.getTime());
    await assertContent(vfs, '/d/moved.bin', data);
    await vfs.rename('/d', '/e');
    await assertContent(vfs, '/e/moved.bin', data);
    assert.equal((await vfs.stat('/e/moved.bin')).mtime.getTime(), when.getTime(), 'stat after a directory rename');
    let listed: Date | undefined;
    for await (const batch of vfs.list('/e')) listed ??= batch.find((e) => e.name === 'moved.bin')?.mtime;
    assert.equal(listed?.getTime(), when.getTime(), 'the listing after a directory rename');
    assert.deepEqual(await s3.uploads('copy/'), []);
    assert.deepEqual(await s3.keys('copy/.wharf-uploads/'), []);
  } finally {
    await vfs.close();
  }
});

test('a directory rename that fails part-way says how far it got (451 over FTP), and loses nothing', async (t) => {
  // A client whose CopyObject of any key containing "poison" fails, as a throttled or broken store would.
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    maxAttempts: 1,
  });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { CopySource?: string };
      if (context.commandName === 'CopyObjectCommand' && input.CopySource?.includes('poison'))
        throw Object.assign(new Error('injected failure'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } });
      return next(args);
    },
    { step: 'initialize', name: 'poison' },
  );
  t.after(() => client.destroy());
  const vfs = new S3Vfs({ bucket: s3.bucket, prefix: 'partial/' }, { client, tuning: { renameConcurrency: 1 } });
  await vfs.mkdir('/d');
  for (const name of ['a.txt', 'b.txt', 'poison.txt']) await putFile(vfs, `/d/${name}`, name);
  const srv = await startServer({ anonymous: { enabled: false }, users: [{ name: 'alice', password: await secretHash(), home: vfs, permissions: ['*'] }] });
  t.after(() => srv.close());
  const ftp = new Client(10_000);
  t.after(() => ftp.close());
  await ftp.access({ host: '127.0.0.1', port: srv.port, user: 'alice', password: 'secret' });
  let reply: FTPError | undefined;
  await ftp.rename('/d', '/e').catch((err: unknown) => (reply = err as FTPError));
  assert.equal(reply?.code, 451);
  assert.match(reply?.message ?? '', /Directory rename stopped part-way: 3 object\(s\) moved, the rest kept their old names/);
  // The marker and two files moved; the poisoned file kept its name and content.
  assert.deepEqual(await namesIn(vfs, '/e'), ['a.txt', 'b.txt']);
  assert.deepEqual(await namesIn(vfs, '/d'), ['poison.txt']);
  await assertContent(vfs, '/d/poison.txt', 'poison.txt');
});

/** A client of the test server whose requests of one kind wait until released: to see what runs while they are held. */
function holdingClient(command: string): { client: S3Client; held: () => number; release: () => void; calls: () => number } {
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  let gate: { promise: Promise<void>; open: () => void } | null = null;
  const newGate = () => {
    let open = () => undefined as void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    return { promise, open };
  };
  gate = newGate();
  let waiting = 0;
  let calls = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === command) {
        calls++;
        if (gate) {
          waiting++;
          await gate.promise;
          waiting--;
        }
      }
      return next(args);
    },
    { step: 'initialize', name: 'hold' },
  );
  return {
    client,
    held: () => waiting,
    calls: () => calls,
    release: () => {
      gate?.open();
      gate = null;
    },
  };
}

test('an upload holds at most (queueSize + 1) parts: writes wait while the parts in flight are not done', async (t) => {
  const hold = holdingClient('UploadPartCommand');
  t.after(() => hold.client.destroy());
  const partSize = 1024 * 1024;
  const vfs = new S3Vfs({ bucket: s3.bucket, prefix: 'bounded/' }, { client: hold.client, tuning: { partSize, queueSize: 2 } });
  const up = await vfs.write('/f.bin', { kind: 'replace' });
  const chunk = Buffer.alloc(64 * 1024, 7);
  const write = () => new Promise<void>((resolve, reject) => up.stream.write(chunk, (err) => (err ? reject(err) : resolve())));
  let accepted = 0;
  // While part slots are free every write is taken: write until both part requests are held.
  while (hold.held() < 2 && accepted < 8 * partSize) {
    await write();
    accepted += chunk.length;
  }
  // Then the third part fills, and the write that completes it waits for a slot. Proving that a write
  // is NOT taken needs a time limit: a second, after which it is taken to be waiting.
  for (let i = 0; i < 64; i++) {
    const taken = await Promise.race([write().then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 1000))]);
    if (!taken) break;
    accepted += chunk.length;
  }
  assert.equal(hold.held(), 2, 'two parts in flight, held');
  assert.ok(accepted <= 3 * partSize + chunk.length, `bytes taken while two parts are held: ${accepted}`);
  assert.ok(accepted >= 3 * partSize - chunk.length, `the upload takes a part beyond those in flight: ${accepted}`);
  hold.release();
  await up.abort();
  await vfs.close();
  assert.deepEqual(await s3.uploads('bounded/'), []);
});

test('a listing reaches the client page by page, with one page asked for ahead and no more', async (t) => {
  const hold = holdingClient('ListObjectsV2Command');
  t.after(() => hold.client.destroy());
  const seed = S3Vfs.fromUrl(`s3://${s3.bucket}/paged`, { settings: s3.settings });
  await seed.mkdir('/d');
  s3.seed(
    'paged/d/',
    Array.from({ length: 2100 }, (_, i) => `f${i}`),
  );
  await seed.close();
  hold.release();
  const vfs = new S3Vfs({ bucket: s3.bucket, prefix: 'paged/' }, { client: hold.client });
  const it = vfs.list('/d')[Symbol.asyncIterator]();
  const sizes: number[] = [];
  const first = await it.next();
  assert.equal(first.done, false);
  sizes.push(first.done ? 0 : first.value.length);
  assert.ok(sizes[0]! <= 1000, 'one page');
  assert.equal(hold.calls(), 2, 'the second page is asked for ahead, the third not yet');
  const second = await it.next();
  sizes.push(second.done ? 0 : second.value.length);
  assert.equal(hold.calls(), 3);
  const third = await it.next();
  sizes.push(third.done ? 0 : third.value.length);
  assert.equal((await it.next()).done, true);
  assert.equal(hold.calls(), 3);
  assert.equal(
    sizes.reduce((a, b) => a + b, 0),
    2100,
    `batches: ${sizes.join(', ')}`,
  );
  await vfs.close();
});

test('recover(): an entry written before its upload was created (no id yet) aborts the unclaimed uploads of its key only', async () => {
  const vfs = S3Vfs.fromUrl(`s3://${s3.bucket}/intent`, { settings: s3.settings, hostTag: 'feedbeef' });
  try {
    const entry = async (name: string, doc: object) => {
      const body = Buffer.from(JSON.stringify(doc));
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `intent/.wharf-uploads/${name}`, Body: body, ContentLength: body.length }));
    };
    const create = async (key: string) => (await s3.client.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: key }))).UploadId ?? '';
    // A dead process wrote its intent for a.bin, then S3 created the upload; it died before recording the id.
    await entry('feedbeef-999999999-00000000-01', { key: 'intent/a.bin' });
    await create('intent/a.bin');
    // A live process's upload of the same key, recorded: kept. An upload of another key sharing the prefix: kept.
    const live = await create('intent/a.bin');
    await entry(`feedbeef-${process.ppid}-00000000-02`, { key: 'intent/a.bin', uploadId: live });
    const other = await create('intent/a.bin.part');
    // A dead process's intent whose upload was never created: its entry goes, nothing is aborted.
    await entry('feedbeef-999999998-00000000-03', { key: 'intent/b.bin' });
    assert.equal(await vfs.recover(new Date(Date.now() + 60_000)), 1);
    const left = await s3.uploads('intent/');
    assert.deepEqual(left.map((u) => u.uploadId).sort(), [live, other].sort());
    assert.deepEqual(await s3.keys('intent/.wharf-uploads/'), [`intent/.wharf-uploads/feedbeef-${process.ppid}-00000000-02`]);
  } finally {
    await vfs.close();
  }
});

test('an intent stands for the unclaimed uploads of its key started from its second to the end of its window', () => {
  const written = new Date('2026-12-02T10:00:00.700Z');
  const from = Date.parse('2026-12-02T10:00:00.000Z');
  const to = written.getTime() + INTENT_WINDOW_MS;
  const at = (iso: string, over: object = {}) => standsFor({ Key: 'k', UploadId: 'u', Initiated: new Date(iso), ...over }, 'k', from, to, new Set(['claimed']));
  assert.equal(at('2026-12-02T10:00:00.000Z'), true, 'listings that round to the second');
  assert.equal(at('2026-12-02T10:04:00.000Z'), true);
  assert.equal(at('2026-12-02T09:59:59.999Z'), false, 'started before the intent');
  assert.equal(at(new Date(to + 1).toISOString()), false, 'after the window');
  assert.equal(at('2026-12-02T10:00:01.000Z', { UploadId: 'claimed' }), false, 'recorded by another entry');
  assert.equal(at('2026-12-02T10:00:01.000Z', { Key: 'k2' }), false, 'another key');
  assert.equal(standsFor({ Key: 'k', UploadId: 'u' }, 'k', from, to, new Set()), false, 'no start time');
});

test('recover(): aborts the leftover uploads of dead processes of this machine only', async () => {
  const vfs = S3Vfs.fromUrl(`s3://${s3.bucket}/rec`, { settings: s3.settings, hostTag: 'feedbeef' });
  try {
    const leave = async (key: string, entry: string) => {
      const { UploadId } = await s3.client.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: key }));
      const body = Buffer.from(JSON.stringify({ key, uploadId: UploadId }));
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `rec/.wharf-uploads/${entry}`, Body: body, ContentLength: body.length }));
    };
    await leave('rec/dead.bin', 'feedbeef-999999999-00000000-01');
    await leave('rec/sub/dead2.bin', 'feedbeef-999999998-00000000-02');
    await leave('rec/live.bin', `feedbeef-${process.ppid}-00000000-03`);
    await leave('rec/other-host.bin', 'cafebabe-999999999-00000000-04');
    // Not registered at all: another tool's upload.
    await s3.client.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: 'rec/foreign.bin' }));
    const later = new Date(Date.now() + 60_000);
    assert.equal(await vfs.recover(later, '/sub'), 1, 'only under the directory asked for');
    assert.equal(await vfs.recover(later), 1);
    assert.deepEqual((await s3.uploads('rec/')).map((u) => u.key).sort(), ['rec/foreign.bin', 'rec/live.bin', 'rec/other-host.bin']);
    assert.deepEqual(await s3.keys('rec/.wharf-uploads/'), ['rec/.wharf-uploads/cafebabe-999999999-00000000-04', `rec/.wharf-uploads/feedbeef-${process.ppid}-00000000-03`]);
    assert.equal(await vfs.recover(new Date(0)), 0, 'entries written after `before` are kept');
  } finally {
    await vfs.close();
  }
});
