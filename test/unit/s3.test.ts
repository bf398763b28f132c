/**
 * The pure parts of the S3 backend: `s3://` URLs, the key jail, the
 * copy-source encoding, error mapping, the probe's one-line reasons, the
 * upload registry's names, and `[storage.s3]` in the config schema.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { S3ServiceException } from '@aws-sdk/client-s3';
import { copySource, KeySpace, parseS3Url } from '../../src/vfs/s3/location.js';
import { codeOf, toVfsError } from '../../src/vfs/s3/client.js';
import { describeProbeFailure } from '../../src/vfs/s3/probe.js';
import { isLeftover } from '../../src/vfs/s3/registry.js';
import { VfsError } from '../../src/vfs/errors.js';
import { buildConfig, ConfigError } from '../../src/config/load.js';

function s3Error(name: string, status: number): S3ServiceException {
  return new S3ServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    message: `${name} at https://bucket.s3.example.com/key?X-Amz-Credential=AKIA`,
  });
}

test('parseS3Url: bucket and prefix, or one line saying what is wrong', () => {
  assert.deepEqual(parseS3Url('s3://archive'), { bucket: 'archive', prefix: '' });
  assert.deepEqual(parseS3Url('s3://archive/'), { bucket: 'archive', prefix: '' });
  assert.deepEqual(parseS3Url('s3://archive/pub/ftp/'), { bucket: 'archive', prefix: 'pub/ftp/' });
  assert.deepEqual(parseS3Url('S3://my-bucket.v2/a b/ü'), { bucket: 'my-bucket.v2', prefix: 'a b/ü/' });
  for (const bad of [
    's3:/x/y',
    's3://',
    's3://ab',
    's3://UPPER/x',
    's3://a..b/x',
    's3://-bucket/x',
    's3://bucket/a//b',
    's3://bucket/./a',
    's3://bucket/a/../b',
    's3://bucket/a?b',
    's3://bucket/a#b',
    's3://bucket/a\\b',
    's3://bucket/.wharf-uploads',
  ]) {
    const r = parseS3Url(bad);
    assert.equal(typeof r, 'string', bad);
    assert.ok(!(r as string).includes('\n'), bad);
  }
});

test('KeySpace: every path maps under the prefix; the root, reserved names, control characters and long keys are refused', () => {
  const keys = new KeySpace({ bucket: 'b', prefix: 'pub/' });
  assert.equal(keys.fileKey('/a/b.txt'), 'pub/a/b.txt');
  assert.equal(keys.fileKey('/../../etc/passwd'), 'pub/etc/passwd');
  assert.equal(keys.fileKey('/a/./../b'), 'pub/b');
  assert.equal(keys.fileKey('\\x\\y'), 'pub/x/y');
  assert.equal(keys.dirPrefix('/'), 'pub/');
  assert.equal(keys.dirPrefix('/..'), 'pub/');
  assert.equal(keys.dirPrefix('/d'), 'pub/d/');
  assert.equal(keys.pathOf('pub/d/'), '/d');
  assert.equal(keys.registryKey('x'), 'pub/.wharf-uploads/x');
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return err instanceof VfsError ? err.code : 'other';
    }
    return 'ok';
  };
  assert.equal(
    code(() => keys.fileKey('/')),
    'denied',
  );
  assert.equal(
    code(() => keys.fileKey('/..')),
    'denied',
  );
  assert.equal(
    code(() => keys.fileKey('/a\nb')),
    'denied',
  );
  assert.equal(
    code(() => keys.fileKey('/.wharf-uploads/x')),
    'denied',
  );
  assert.equal(
    code(() => keys.dirPrefix('/d/.wharf-mtimes')),
    'denied',
  );
  assert.equal(
    code(() => keys.fileKey(`/${'x'.repeat(1100)}`)),
    'denied',
  );
  const whole = new KeySpace({ bucket: 'b', prefix: '' });
  assert.equal(whole.fileKey('/../a'), 'a');
  assert.equal(whole.dirPrefix('/'), '');
});

test('copySource: percent-encodes what a URL decoder must undo, keeps plain punctuation', () => {
  assert.equal(copySource('b', 'dir/a b.txt'), 'b/dir/a%20b.txt');
  assert.equal(copySource('b', 'x/ü 100%.bin'), 'b/x/%C3%BC%20100%25.bin');
  assert.equal(copySource('b', "semi;colon & #hash=@,$'()*~"), "b/semi;colon%20&%20#hash=@,$'()*~");
  assert.equal(copySource('b', 'q?x+y'), 'b/q%3Fx%2By');
  assert.equal(decodeURIComponent(copySource('b', 'a/ü ?+%#;&')), 'b/a/ü ?+%#;&');
});

test('S3 errors map to VfsError codes with fixed texts naming no endpoint, key or credential', () => {
  assert.equal(codeOf(s3Error('NoSuchKey', 404)), 'not-found');
  assert.equal(codeOf(s3Error('NotFound', 404)), 'not-found');
  assert.equal(codeOf(s3Error('AccessDenied', 403)), 'denied');
  assert.equal(codeOf(s3Error('InvalidAccessKeyId', 403)), 'denied');
  assert.equal(codeOf(s3Error('InvalidRange', 416)), 'bad-offset');
  assert.equal(codeOf(s3Error('EntityTooLarge', 400)), 'no-space');
  assert.equal(codeOf(s3Error('SlowDown', 503)), 'io');
  assert.equal(codeOf(s3Error('InternalError', 500)), 'io');
  assert.equal(codeOf(s3Error('NoSuchBucket', 404)), 'io');
  assert.equal(codeOf(Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:9000'), { code: 'ECONNREFUSED' })), 'io');
  for (const err of [s3Error('SlowDown', 503), s3Error('AccessDenied', 403), Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:9000'), { code: 'ECONNREFUSED' })]) {
    const v = toVfsError(err);
    assert.ok(!/example|AKIA|10\.0\.0\.1|\//.test(v.message), v.message);
    assert.equal(v.cause, err, 'the original is kept for the log');
  }
});

test('the probe says in one line why a bucket cannot be used', () => {
  const loc = { bucket: 'archive', prefix: 'pub/' };
  const net = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  assert.match(describeProbeFailure(net, loc), /cannot reach the S3 endpoint \(ECONNREFUSED\)/);
  assert.match(describeProbeFailure(s3Error('NoSuchBucket', 404), loc), /bucket "archive" does not exist/);
  assert.match(describeProbeFailure(s3Error('InvalidAccessKeyId', 403), loc), /credentials were refused/);
  assert.match(describeProbeFailure(s3Error('SignatureDoesNotMatch', 403), loc), /credentials were refused/);
  assert.match(describeProbeFailure(s3Error('AccessDenied', 403), loc), /access to bucket "archive" is denied/);
  assert.match(describeProbeFailure(s3Error('PermanentRedirect', 301), loc), /another region/);
  assert.match(
    describeProbeFailure(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }), loc),
    /no S3 credentials found/,
  );
  for (const line of [describeProbeFailure(s3Error('Weird', 418), loc), describeProbeFailure(net, loc)]) assert.ok(!line.includes('\n') && !line.includes('AKIA'));
});

test('upload registry names: only this machine, only dead processes or earlier runs', () => {
  assert.equal(isLeftover('ab12cd34-999999999-0badf00d-0011aa', 'ab12cd34'), true, 'no such pid');
  assert.equal(isLeftover(`ab12cd34-${process.pid}-0badf00d-0011aa`, 'ab12cd34'), true, 'this pid, an earlier run');
  assert.equal(isLeftover(`ab12cd34-${process.ppid}-0badf00d-0011aa`, 'ab12cd34'), false, 'a live process');
  assert.equal(isLeftover('ffffffff-999999999-0badf00d-0011aa', 'ab12cd34'), false, 'another machine');
  assert.equal(isLeftover('junk', 'ab12cd34'), false);
});

test('[storage.s3] in the config: defaults, credentials in pairs, part size at least 5 MiB, s3:// roots need it', () => {
  const base = { anonymous: { root: 's3://archive/pub' } };
  const c = buildConfig({ ...base, storage: { s3: {} } }, '/');
  assert.deepEqual(c.storage?.s3, { region: 'us-east-1', force_path_style: false, part_size: 8 * 1024 * 1024, upload_concurrency: 4 });
  assert.equal(c.anonymous?.root, 's3://archive/pub');
  const problems = (doc: unknown) => {
    try {
      buildConfig(doc, '/');
      return [];
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
  };
  assert.deepEqual(problems(base), ['anonymous.root: s3:// storage needs the [storage.s3] section (endpoint, region, credentials)']);
  assert.match(problems({ ...base, storage: { s3: { access_key_id: 'x' } } }).join('\n'), /storage\.s3\.access_key_id: access_key_id and secret_access_key go together/);
  assert.match(problems({ ...base, storage: { s3: { part_size: 1024 } } }).join('\n'), /storage\.s3\.part_size: must be at least 5242880/);
  assert.match(problems({ ...base, storage: { s3: { endpoint: 'ftp://x' } } }).join('\n'), /storage\.s3\.endpoint: must be an http/);
  assert.match(problems({ ...base, storage: { s3: { bucket: 'x' } } }).join('\n'), /unknown setting "bucket"/);
  assert.deepEqual(problems({ anonymous: { root: 's3://x' }, storage: { s3: {} } }), [
    'anonymous.root: "s3://x": "x" is not a valid bucket name (3-63 lower-case letters, digits, dots, hyphens)',
  ]);
});
