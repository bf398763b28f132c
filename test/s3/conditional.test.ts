/**
 * Conditional writes, as AWS S3 enforces them: the test server (our s3rver
 * launcher) answers `If-None-Match: *` on PutObject and
 * CompleteMultipartUpload with 412 when the key exists, and `If-Match`
 * with 412 for another ETag. The backend sends `If-None-Match: *` where a
 * write must not replace anything (the drop box's new files, STOU, SFTP's
 * O_EXCL, MKD's marker), so a file created by someone else between
 * Wharf's own check and its final write is refused by S3 itself and stays
 * as that writer left it.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { S3Vfs } from '../../src/vfs/s3/s3Vfs.js';
import { assertContent, putFile } from '../../src/vfs/contract/files.js';
import { VfsError } from '../../src/vfs/errors.js';
import { startServer } from '../helpers/server.js';
import { bytes, curl, curlReplies, describe } from '../helpers/clients.js';
import { MiB, startS3, type S3Server } from '../helpers/s3.js';

let s3: S3Server;

before(async () => {
  s3 = await startS3('wharf-conditional');
});

after(async () => {
  await s3.stop();
});

/** The S3 error name and HTTP status of a failed request. */
async function s3Failure(p: Promise<unknown>): Promise<{ name: string; status: number | undefined }> {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode };
  }
  assert.fail('expected S3 to refuse the request');
}

async function text(key: string): Promise<string> {
  const out = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
  return (await out.Body?.transformToString()) ?? '';
}

test('the test server enforces If-None-Match and If-Match on PutObject as AWS S3 does', async () => {
  const Bucket = s3.bucket;
  const put = (Key: string, body: string, cond: { IfNoneMatch?: string; IfMatch?: string } = {}) =>
    s3.client.send(new PutObjectCommand({ Bucket, Key, Body: body, ContentLength: Buffer.byteLength(body), ...cond }));
  const first = await put('raw/a.txt', 'first', { IfNoneMatch: '*' });
  assert.deepEqual(await s3Failure(put('raw/a.txt', 'second', { IfNoneMatch: '*' })), { name: 'PreconditionFailed', status: 412 });
  assert.equal(await text('raw/a.txt'), 'first', 'a refused write changes nothing');
  assert.deepEqual(await s3Failure(put('raw/a.txt', 'second', { IfNoneMatch: '"abc"' })), { name: 'NotImplemented', status: 501 });
  assert.deepEqual(await s3Failure(put('raw/a.txt', 'second', { IfMatch: '"0123456789abcdef0123456789abcdef"' })), { name: 'PreconditionFailed', status: 412 });
  assert.deepEqual(await s3Failure(put('raw/missing.txt', 'x', { IfMatch: first.ETag })), { name: 'NoSuchKey', status: 404 });
  await put('raw/a.txt', 'second', { IfMatch: first.ETag });
  assert.equal(await text('raw/a.txt'), 'second');
  await put('raw/a.txt', 'third');
  assert.equal(await text('raw/a.txt'), 'third', 'an unconditional write replaces');
});

test('the test server enforces If-None-Match on CompleteMultipartUpload; the refused upload can still be aborted', async () => {
  const Bucket = s3.bucket;
  const Key = 'raw/multi.bin';
  const { UploadId } = await s3.client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
  const body = bytes(5 * MiB, 1);
  const part = await s3.client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: body, ContentLength: body.length }));
  // Another writer creates the key while the parts are on their way.
  await s3.client.send(new PutObjectCommand({ Bucket, Key, Body: 'the other writer', ContentLength: 16 }));
  const complete = new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, IfNoneMatch: '*', MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } });
  assert.deepEqual(await s3Failure(s3.client.send(complete)), { name: 'PreconditionFailed', status: 412 });
  assert.equal(await text(Key), 'the other writer');
  assert.deepEqual(await s3.uploads('raw/'), [{ key: Key, uploadId: UploadId }], 'the upload is still there');
  await s3.client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }));
  assert.deepEqual(await s3.uploads('raw/'), []);
});

/**
 * A client for the backend that, just before each final write carrying
 * `If-None-Match: *` (PutObject or CompleteMultipartUpload), lets another
 * S3 client create the same key: the race the condition exists for.
 */
function racingClient(t: TestContext, racerBody: string): { client: S3Client; raced: () => number } {
  const client = new S3Client({ ...s3.settings, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, requestChecksumCalculation: 'WHEN_REQUIRED', maxAttempts: 1 });
  let raced = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Bucket?: string; Key?: string; IfNoneMatch?: string };
      const final = context.commandName === 'PutObjectCommand' || context.commandName === 'CompleteMultipartUploadCommand';
      if (final && input.IfNoneMatch === '*') {
        raced++;
        await s3.client.send(new PutObjectCommand({ Bucket: input.Bucket, Key: input.Key, Body: racerBody, ContentLength: Buffer.byteLength(racerBody) }));
      }
      return next(args);
    },
    { step: 'initialize', name: 'racer' },
  );
  t.after(() => client.destroy());
  return { client, raced: () => raced };
}

test('create-new loses a race at the final write: S3 refuses it (exists), the other file stays, no upload is left', async (t) => {
  const { client, raced } = racingClient(t, 'written by someone else');
  const vfs = new S3Vfs({ bucket: s3.bucket, prefix: 'race/' }, { client, tuning: { partSize: 5 * MiB } });
  for (const [name, size] of [
    ['small.txt', 100],
    ['multi.bin', 11 * MiB],
  ] as const) {
    const upload = await vfs.write(`/${name}`, { kind: 'create-new' });
    upload.stream.end(bytes(size, 3));
    await assert.rejects(upload.commit(), (err: unknown) => err instanceof VfsError && err.code === 'exists', name);
    await assertContent(vfs, `/${name}`, 'written by someone else');
  }
  assert.equal(raced(), 2, 'both final writes carried If-None-Match: *');
  assert.deepEqual(await s3.uploads('race/'), [], 'the refused multipart upload was aborted');
  assert.deepEqual(await s3.keys('race/.wharf-uploads/'), [], 'and its registry entry removed');
  // A plain replace sends no condition and replaces.
  await putFile(vfs, '/small.txt', 'replaced');
  await assertContent(vfs, '/small.txt', 'replaced');
  assert.equal(raced(), 2);
});

test('MKD of one name twice at once: exactly one succeeds', async () => {
  const vfs = new S3Vfs({ bucket: s3.bucket, prefix: 'mkdir/' }, { settings: s3.settings });
  try {
    for (let i = 0; i < 5; i++) {
      const results = await Promise.allSettled([vfs.mkdir(`/d${i}`), vfs.mkdir(`/d${i}`)]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, `round ${i}`);
      const failed = results.find((r) => r.status === 'rejected');
      assert.ok(failed?.reason instanceof VfsError && failed.reason.code === 'exists', `round ${i}: ${String(failed?.reason)}`);
    }
    assert.deepEqual(await s3.keys('mkdir/'), ['mkdir/d0/', 'mkdir/d1/', 'mkdir/d2/', 'mkdir/d3/', 'mkdir/d4/']);
  } finally {
    await vfs.close();
  }
});

test('FTP: a drop-box upload whose name another client took meanwhile is refused, the first stays', async (t) => {
  const { client } = racingClient(t, 'the first upload');
  const root = new S3Vfs({ bucket: s3.bucket, prefix: 'ftp/' }, { client });
  await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'ftp/incoming/', Body: '', ContentLength: 0 }));
  const srv = await startServer({ anonymous: { enabled: true, root, upload_dir: 'incoming' } });
  t.after(() => srv.close());
  const url = `ftp://127.0.0.1:${srv.port}`;
  const r = await curl(['-v', '-T', '-', `${url}/incoming/note.txt`], { input: 'the second upload' });
  assert.notEqual(r.code, 0, describe(r));
  const last = curlReplies(r.stderr).at(-1);
  assert.deepEqual(last, { code: 553, text: 'Could not create file: it already exists and may not be overwritten.' });
  assert.equal(await text('ftp/incoming/note.txt'), 'the first upload');
  assert.deepEqual(await s3.uploads('ftp/'), []);
});
