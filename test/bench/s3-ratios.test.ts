/** The bench's S3 ratios: a front-end's share of the direct-SDK ceiling, the report's table of them, and counting a page's links. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderReport, type RawRun } from '../../bench/report.js';
import { linkedEntries } from '../../bench/scenarios/http.js';
import { ceilingShare } from '../../bench/targets.js';

test('ceilingShare: value ÷ ceiling when higher is better, ceiling ÷ value when lower is; NaN when either is missing or zero', () => {
  assert.equal(ceilingShare(80, 100, 'higher'), 0.8);
  assert.equal(ceilingShare(0.5, 0.25, 'lower'), 0.5);
  assert.equal(ceilingShare(0.25, 0.5, 'lower'), 2);
  for (const [v, c] of [
    [NaN, 1],
    [1, NaN],
    [0, 1],
    [1, 0],
  ] as const) {
    assert.ok(Number.isNaN(ceilingShare(v, c, 'higher')), `${v} ${c}`);
    assert.ok(Number.isNaN(ceilingShare(v, c, 'lower')), `${v} ${c}`);
  }
});

test('linkedEntries: counts href="PREFIX links only', () => {
  const page = Buffer.from('<a href="../">up</a><a href="obj-000001.dat">1</a> <a href="obj-000002.dat">2</a><a href="entry-1">e</a><a href="?sort=name">s</a>');
  assert.equal(linkedEntries(page, 'obj-'), 2);
  assert.equal(linkedEntries(page), 1);
  assert.equal(linkedEntries(Buffer.alloc(0), 'obj-'), 0);
});

/** A run of one SFTP-over-S3 scenario with a throughput and a time metric on two front-ends and the SDK. */
function s3SftpRun(): RawRun {
  const rec = (server: string, metrics: Record<string, number>) => ({ kind: 'scenario' as const, id: 's3-sftp-get-big', server, rep: 0, metrics });
  return {
    started: '2026-12-02T00:00:00Z',
    finished: '2026-12-02T00:01:00Z',
    seconds: 60,
    options: {},
    machine: {},
    servers: [
      { name: 'wharf-s3', note: '', protocols: ['s3', 's3-sftp', 's3-http'] },
      { name: 'rclone-s3', note: '', protocols: ['s3-sftp', 's3-http'] },
      { name: 's3-sdk', note: '', protocols: ['s3', 's3-sftp', 's3-http'] },
    ],
    scenarios: [
      {
        id: 's3-sftp-get-big',
        title: 'S3 over SFTP: download 1 GiB (OpenSSH sftp, login included)',
        tls: false,
        protocol: 's3-sftp',
        metrics: [
          { key: 'mbps', label: 'throughput', unit: 'MB/s', better: 'higher' },
          { key: 'storeCpuPerGiB', label: 'S3 server CPU', unit: 's/GiB', better: 'lower', digits: 2 },
        ],
      },
    ],
    ceilings: [],
    records: [rec('wharf-s3', { mbps: 90, storeCpuPerGiB: 4 }), rec('rclone-s3', { mbps: 60, storeCpuPerGiB: 2 }), rec('s3-sdk', { mbps: 100, storeCpuPerGiB: 2 })],
  };
}

test('the report: an "S3 over SFTP" group with each front-end\'s share of the ceiling, and the target line against rclone-s3', () => {
  const report = renderReport(s3SftpRun());
  assert.match(report, /## S3 over SFTP: Results/);
  assert.match(report, /## S3 over SFTP: share of the direct-SDK ceiling \(medians\)/);
  assert.match(report, /\| scenario \| metric \| wharf-s3 \| rclone-s3 \|\n/);
  // Throughput 90 and 60 of 100; the store's CPU 2 ÷ 4 and 2 ÷ 2 (lower is better, so turned).
  assert.match(report, /\| throughput \(MB\/s\) \| 0\.90× \| 0\.60× \|/);
  assert.match(report, /\| S3 server CPU \(s\/GiB\) \| 0\.50× \| 1\.00× \|/);
  assert.match(report, /✅ met: S3 over SFTP: download 1 GiB, share of the ceiling ≥ rclone's: 0\.90× vs 0\.60× \(Wharf vs rclone 1\.50×/);
});
