/**
 * SFTP scenarios, against Wharf's `[sftp]` and OpenSSH's sshd
 * (internal-sftp), both logging in with the run's client key:
 *
 * - `sftp-get-big` / `sftp-put-big`: one OpenSSH `sftp -b` process
 *   downloading the big file to /dev/null / uploading it into incoming/.
 *   The time is the process's, from spawn to exit, so it includes the login
 *   (tens of ms against seconds of transfer).
 * - `sftp-many`: N OpenSSH `sftp` processes at once, each logging in and
 *   downloading the client file. OpenSSH's client rather than ssh2's in
 *   this process: it is the client people use, its C crypto and SFTP
 *   pipelining cost far less CPU per byte than a JavaScript SFTP client
 *   would, and with one core for all clients the cheaper client is what
 *   keeps the figure about the server. Its processes' CPU (a cgroup) is
 *   counted as load generator CPU.
 * - `sftp-logins`: connect, key exchange, public key login, open the sftp
 *   subsystem, close; with the ssh2 client in this process, a few in flight
 *   (spawning an OpenSSH client per login would cost the client core more
 *   than the login costs the server).
 *
 * A download is checked once per scenario run by fetching the client file
 * to disk and comparing its size; an upload by the size of the stored file.
 */
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { NAMES, removeUpload } from '../dataset.js';
import type { Options } from '../options.js';
import { clientChildSeconds, runSftp, sftpLogin, type SftpTarget } from '../sftpClient.js';
import type { ServerSpec } from '../servers/types.js';
import {
  CLIENT_CPU,
  CLIENTS_METRICS,
  clientsMetrics,
  errorSummary,
  GiB,
  MB,
  measure,
  percentile,
  pool,
  sizeLabel,
  type Ctx,
  type Measured,
  type Metrics,
  type Scenario,
} from './common.js';

const sftpApplies = (spec: ServerSpec) => (spec.protocols ?? []).includes('sftp');

/** Where the scenario's clients log in. */
export function target(ctx: Ctx): SftpTarget {
  const { sftpPort, sftpUser, host } = ctx.server;
  const ssh = ctx.dataset.ssh;
  if (sftpPort === undefined || sftpUser === undefined || !ssh) throw new Error(`${ctx.spec.name} does not serve SFTP in this run (no SSH keys?)`);
  return { host, port: sftpPort, user: sftpUser, key: ssh.clientKey };
}

/** {@link measure}, with the CPU of the OpenSSH client processes added to the load generator's. */
async function measureWithClients<T>(ctx: Ctx, fn: () => Promise<T>, settleMs = 0): Promise<Measured<T>> {
  const c0 = await clientChildSeconds();
  const m = await measure(ctx, fn, settleMs);
  const clientCpu = m.clientCpu + (await clientChildSeconds()) - c0;
  return { ...m, clientCpu, clientPct: m.wall > 0 ? (clientCpu / m.wall) * 100 : 0 };
}

/** Downloads the client file to a local file and checks its size (a short download would flatter a server). */
export async function checkDownload(ctx: Ctx, t: SftpTarget): Promise<void> {
  const local = path.join(ctx.dataset.base, `check-${ctx.spec.name}-${process.pid}.bin`);
  try {
    await runSftp(t, [`get ${NAMES.client} ${local}`], ctx.opts.clientCpu, ctx.opts.transferTimeoutMs);
    const size = (await stat(local)).size;
    if (size !== ctx.opts.clientBytes) throw new Error(`short SFTP download: ${size} of ${ctx.opts.clientBytes} bytes`);
  } finally {
    await rm(local, { force: true });
  }
}

const TRANSFER_METRICS = [
  { key: 'mbps', label: 'throughput', unit: 'MB/s', better: 'higher' as const, digits: 0 },
  { key: 'cpuPerGiB', label: 'server CPU', unit: 's/GiB', better: 'lower' as const, digits: 2 },
  CLIENT_CPU,
];

/** One OpenSSH sftp process downloading the big file to /dev/null. */
export function sftpGetBig(opts: Options): Scenario {
  return {
    id: 'sftp-get-big',
    title: `SFTP download ${sizeLabel(opts.bigBytes)} (OpenSSH sftp, login included)`,
    tls: false,
    protocol: 'sftp',
    metrics: TRANSFER_METRICS,
    applies: sftpApplies,
    async run(ctx: Ctx): Promise<Metrics> {
      const t = target(ctx);
      await checkDownload(ctx, t);
      const m = await measureWithClients(ctx, () => runSftp(t, [`get ${NAMES.big} /dev/null`], ctx.opts.clientCpu, ctx.opts.transferTimeoutMs));
      const bytes = ctx.opts.bigBytes;
      return { mbps: bytes / MB / m.wall, cpuPerGiB: m.serverCpu / (bytes / GiB), clientCpu: m.clientPct };
    },
  };
}

/** One OpenSSH sftp process uploading the big file into incoming/ (removed afterwards). */
export function sftpPutBig(opts: Options): Scenario {
  return {
    id: 'sftp-put-big',
    title: `SFTP upload ${sizeLabel(opts.bigBytes)} (OpenSSH sftp, login included)`,
    tls: false,
    protocol: 'sftp',
    metrics: TRANSFER_METRICS,
    applies: sftpApplies,
    async run(ctx: Ctx): Promise<Metrics> {
      const t = target(ctx);
      const name = `sftp-up-${ctx.spec.name}-${ctx.rep}-${process.pid}.bin`;
      const source = path.join(ctx.dataset.root, NAMES.big);
      try {
        const m = await measureWithClients(ctx, () => runSftp(t, [`put ${source} ${NAMES.incoming}/${name}`], ctx.opts.clientCpu, ctx.opts.transferTimeoutMs));
        const size = (await stat(path.join(ctx.dataset.root, ctx.dataset.incoming, name))).size;
        if (size !== ctx.opts.bigBytes) throw new Error(`short SFTP upload: ${size} of ${ctx.opts.bigBytes} bytes stored`);
        return { mbps: size / MB / m.wall, cpuPerGiB: m.serverCpu / (size / GiB), clientCpu: m.clientPct };
      } finally {
        await removeUpload(ctx.dataset, name);
      }
    },
  };
}

/** N OpenSSH sftp processes at once, each logging in and downloading the client file. */
export function sftpMany(opts: Options): Scenario {
  return {
    id: 'sftp-many',
    title: `SFTP: ${opts.sftpClients} clients at once, each login + download ${sizeLabel(opts.clientBytes)} (OpenSSH sftp)`,
    tls: false,
    protocol: 'sftp',
    metrics: CLIENTS_METRICS,
    applies: sftpApplies,
    async run(ctx: Ctx): Promise<Metrics> {
      const t = target(ctx);
      await checkDownload(ctx, t);
      const n = ctx.opts.sftpClients;
      const times: number[] = [];
      let first = Infinity;
      let last = 0;
      const m = await measureWithClients(ctx, () =>
        pool(n, n, async () => {
          const t0 = performance.now();
          first = Math.min(first, t0);
          await runSftp(t, [`get ${NAMES.client} /dev/null`], ctx.opts.clientCpu, ctx.opts.transferTimeoutMs);
          const t1 = performance.now();
          last = Math.max(last, t1);
          times.push((t1 - t0) / 1000);
        }),
      );
      const served = m.result.filter((r) => r.status === 'fulfilled').length;
      return clientsMetrics(ctx, m, { n, times, bytes: served * ctx.opts.clientBytes, first, last });
    },
  };
}

/** Logins per second: connect, key login, open the sftp subsystem, close (ssh2 client, a few in flight, time-boxed). */
export function sftpLogins(opts: Options): Scenario {
  return {
    id: 'sftp-logins',
    title: `SFTP key login + subsystem open + close, ${opts.sftpLogins} logins, ${opts.sftpLoginConcurrency} at a time (ssh2 client)`,
    tls: false,
    protocol: 'sftp',
    metrics: [
      { key: 'perS', label: 'rate', unit: 'logins/s', better: 'higher', digits: 0 },
      { key: 'cpuMs', label: 'server CPU', unit: 'ms/login', better: 'lower', digits: 2 },
      { key: 'p50Ms', label: 'login time p50', unit: 'ms', better: 'lower', digits: 1 },
      CLIENT_CPU,
    ],
    applies: sftpApplies,
    async run(ctx: Ctx): Promise<Metrics> {
      const t = target(ctx);
      const { sftpLogins: count, sftpLoginConcurrency, budgetSeconds } = ctx.opts;
      // Warm up (code paths, the key parse), outside the measurement.
      const warm = await pool(sftpLoginConcurrency, sftpLoginConcurrency, () => sftpLogin(t, 15_000));
      if (warm.some((r) => r.status === 'rejected')) throw new Error(`warm-up failed: ${errorSummary(warm)}`);
      const deadline = performance.now() + budgetSeconds * 1000;
      const times: number[] = [];
      const m = await measure(
        ctx,
        () =>
          pool(count, sftpLoginConcurrency, async () => {
            if (performance.now() > deadline) return;
            times.push(await sftpLogin(t, 15_000));
          }),
        300,
      );
      const done = times.length;
      const failed = m.result.filter((r) => r.status === 'rejected').length;
      if (done === 0 || failed > done / 10) throw new Error(`${failed} logins failed: ${errorSummary(m.result)}`);
      if (failed > 0) ctx.note(`${failed} of ${done + failed} logins failed: ${errorSummary(m.result)}`);
      const out: Metrics = { perS: done / m.wall, cpuMs: (m.serverCpu * 1000) / (done + failed), p50Ms: percentile(times, 50) * 1000, clientCpu: m.clientPct };
      if (failed > 0) out.failures = failed;
      return out;
    },
  };
}

/** The SFTP scenarios, in the order they run. */
export function sftpScenarios(opts: Options): Scenario[] {
  return [sftpLogins(opts), sftpGetBig(opts), sftpPutBig(opts), sftpMany(opts)];
}
