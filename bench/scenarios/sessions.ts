/**
 * Session scenarios: the rate of anonymous login + QUIT (and the server CPU
 * each costs), plain or with AUTH TLS first; and the memory each idle,
 * logged-in session holds, with many of them open at once.
 */
import { Control } from '../ftp/control.js';
import type { Options } from '../options.js';
import { treeMemory } from '../proc.js';
import { CLIENT_CPU, errorSummary, measure, pool, quiesce, sleep, type Ctx, type Metrics, type Scenario } from './common.js';

/** One anonymous session: connect, (AUTH TLS,) USER, PASS, QUIT, close. */
async function oneSession(ctx: Ctx, tls: boolean): Promise<void> {
  const c = await Control.connect({ host: ctx.server.host, port: ctx.server.port, timeoutMs: 15_000 });
  try {
    if (tls) await c.startTls();
    await c.login();
    await c.quit();
  } finally {
    c.destroy();
  }
}

/** Sessions run before the measured ones: at least this many, and for at least WARM_SESSIONS_S (a fresh Node server's per-session path is still in the interpreter for its first few thousand). */
const WARM_SESSIONS = 200;
const WARM_SESSIONS_S = 3;

/** Anonymous login + QUIT, a few sessions in flight, time-boxed. */
export function sessionRate(tls: boolean, opts: Options): Scenario {
  const sessionsLabel = `${opts.sessions} sessions, ${opts.sessionConcurrency} at a time`;
  return {
    id: tls ? 'tls-sessions' : 'sessions',
    title: `anonymous login + QUIT${tls ? ' after AUTH TLS' : ''}, ${sessionsLabel}`,
    tls,
    metrics: [
      { key: 'perS', label: 'rate', unit: 'sessions/s', better: 'higher', digits: 0 },
      { key: 'cpuMs', label: 'server CPU', unit: 'ms/session', better: 'lower', digits: 3 },
      CLIENT_CPU,
    ],
    applies: (spec) => !tls || spec.tls,
    async run(ctx: Ctx): Promise<Metrics> {
      const { sessions, sessionConcurrency, budgetSeconds } = ctx.opts;
      // Warm up (code paths, JIT) outside the measurement: it runs first on a freshly started server.
      const warmUntil = performance.now() + WARM_SESSIONS_S * 1000;
      for (let round = 0; round === 0 || (performance.now() < warmUntil && round < 100); round++) {
        const warm = await pool(WARM_SESSIONS, sessionConcurrency, () => oneSession(ctx, tls));
        if (warm.some((r) => r.status === 'rejected')) throw new Error(`warm-up failed: ${errorSummary(warm)}`);
      }
      await quiesce(ctx);
      const deadline = performance.now() + budgetSeconds * 1000;
      let done = 0;
      const m = await measure(
        ctx,
        () =>
          pool(sessions, sessionConcurrency, async () => {
            if (performance.now() > deadline) return;
            await oneSession(ctx, tls);
            done++;
          }),
        300,
      );
      const failed = m.result.filter((r) => r.status === 'rejected').length;
      if (done === 0 || failed > done / 10) throw new Error(`${failed} sessions failed: ${errorSummary(m.result)}`);
      if (failed > 0) ctx.note(`${failed} of ${done + failed} sessions failed: ${errorSummary(m.result)}`);
      const out: Metrics = { perS: done / m.wall, cpuMs: (m.serverCpu * 1000) / (done + failed), clientCpu: m.clientPct };
      if (failed > 0) out.failures = failed;
      return out;
    },
  };
}

/**
 * Many idle logged-in sessions: what each one more costs the server (RSS and
 * PSS over the process tree), measured as the growth from n/2 open sessions
 * to n (pure-ftpd admits at most 1,250 here).
 */
export function idleSessions(opts: Options): Scenario {
  return {
    id: 'idle',
    title: `idle logged-in sessions, each one more (from ${Math.floor(opts.idleSessions / 2)} open to ${opts.idleSessions})`,
    tls: false,
    metrics: [
      { key: 'rssKiB', label: 'RSS per session', unit: 'KiB', better: 'lower', digits: 1 },
      { key: 'pssKiB', label: 'PSS per session', unit: 'KiB', better: 'lower', digits: 1 },
      { key: 'open', label: 'sessions open', unit: 'sessions', better: 'higher', digits: 0 },
    ],
    applies: () => true,
    async run(ctx: Ctx): Promise<Metrics> {
      const n = Math.floor(ctx.opts.idleSessions / 2);
      // Warm up (code paths, pools), then take the baseline.
      const warm = await pool(20, 20, async () => {
        const c = await Control.connect({ host: ctx.server.host, port: ctx.server.port, timeoutMs: 15_000 });
        await c.login();
        await c.quit();
      });
      if (warm.some((r) => r.status === 'rejected')) throw new Error(`warm-up failed: ${errorSummary(warm)}`);
      const open: Control[] = [];
      try {
        const crowd = async () => {
          const results = await pool(n, 50, async () => {
            const c = await Control.connect({ host: ctx.server.host, port: ctx.server.port, timeoutMs: 30_000 });
            open.push(c);
            await c.login();
          });
          const failed = results.filter((r) => r.status === 'rejected').length;
          if (failed > 0) throw new Error(`${failed} of ${n} sessions failed: ${errorSummary(results)}`);
          await sleep(1000);
          return treeMemory(ctx.server.pid);
        };
        // A first crowd, not measured: a garbage-collected server grows its young heap while it
        // admits sessions, a one-time cost that would otherwise be charged to the sessions.
        const before = await crowd();
        const after = await crowd();
        return {
          rssKiB: (after.rssKiB - before.rssKiB) / n,
          pssKiB: (after.pssKiB - before.pssKiB) / n,
          open: 2 * n,
          processes: after.processes,
        };
      } finally {
        await pool(open.length, 100, (i) => (open[i] as Control).quit());
      }
    },
  };
}
