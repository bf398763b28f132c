/**
 * The Vfs contract against S3Vfs on a real S3-compatible server (s3rver
 * on loopback, see test/helpers/s3.ts). Each test gets a fresh prefix of
 * one bucket as its root, with 1 MiB parts so that every upload of more
 * than 1 MiB goes through a multipart upload. Clean-up checks the jail
 * and the uploads: every key in the bucket lies under some test's prefix
 * (nothing was written outside a root), and no multipart upload or
 * registry entry is left under this test's prefix.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { vfsContractSuite } from '../../src/vfs/index.js';
import { S3Vfs } from '../../src/vfs/s3/s3Vfs.js';
import { startS3, type S3Server } from '../helpers/s3.js';

let s3: S3Server;
let n = 0;

before(async () => {
  s3 = await startS3('wharf-contract');
});

after(async () => {
  await s3.stop();
});

vfsContractSuite(
  's3 (s3rver, 1 MiB parts)',
  async () => {
    const prefix = `t${++n}`;
    const vfs = S3Vfs.fromUrl(`s3://${s3.bucket}/${prefix}`, { settings: s3.settings, tuning: { partSize: 1024 * 1024, queueSize: 3 }, hostTag: 'contract' });
    return {
      vfs,
      cleanup: async () => {
        const strays = (await s3.keys()).filter((k) => !/^t\d+\//.test(k));
        assert.deepEqual(strays, [], 'keys outside every root');
        assert.deepEqual(await s3.uploads(`${prefix}/`), [], 'unfinished multipart uploads left');
        assert.deepEqual(await s3.keys(`${prefix}/.wharf-uploads/`), [], 'upload registry entries left');
      },
    };
  },
  { timeout: 120_000 },
);
