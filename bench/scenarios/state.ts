/**
 * What shared limits cost per login (issue 15): anonymous login + QUIT, a
 * few sessions in flight, on Wharf with limits in memory (`wharf`) and in
 * Redis (`wharf-redis`). Besides the rate and Wharf's CPU per session, it
 * reads Redis's own INFO before and after: the commands (round trips) and
 * the Redis CPU each session cost. Each session takes and gives back a
 * connection slot and an anonymous slot: four decisions, one script call
 * (round trip) each, plus the lease renewals of the time it ran; the
 * commands those scripts run inside Redis are counted apart.
 */
import { Control } from '../ftp/control.js';
import type { Options } from '../options.js';
import { CLIENT_CPU, errorSummary, measure, pool, quiesce, type Ctx, type Metrics, type Scenario } from './common.js';

/** Sessions run before the measured ones. */
const WARM_SESSIONS = 100;

async function oneSession(ctx: Ctx): Promise<void> {
  const c = await Control.connect({ host: ctx.server.host, port: ctx.server.port, timeoutMs: 15_000 });
  try {
    await c.login();
    await c.quit();
  } finally {
    c.destroy();
  }
}

/** Anonymous login + QUIT with the limits in memory or in Redis. */
export function stateLogins(opts: Options): Scenario {
  return {
    id: 'state-logins',
    title: `anonymous login + QUIT with shared limits, ${opts.sessions} sessions, ${opts.sessionConcurrency} at a time (Redis figures: wharf-redis)`,
    tls: false,
    metrics: [
      { key: 'perS', label: 'rate', unit: 'sessions/s', better: 'higher', digits: 0 },
      { key: 'cpuMs', label: 'Wharf CPU', unit: 'ms/session', better: 'lower', digits: 3 },
      { key: 'redisCpuMs', label: 'Redis CPU', unit: 'ms/session', better: 'lower', digits: 3 },
      { key: 'redisCalls', label: 'Redis round trips (script calls)', unit: 'per session', better: 'lower', digits: 2 },
      { key: 'redisCmds', label: 'Redis commands (inside scripts too)', unit: 'per session', better: 'lower', digits: 1 },
      CLIENT_CPU,
    ],
    applies: (spec) => spec.name === 'wharf' || spec.name === 'wharf-redis',
    async run(ctx: Ctx): Promise<Metrics> {
      const { sessions, sessionConcurrency, budgetSeconds } = ctx.opts;
      const warm = await pool(WARM_SESSIONS, sessionConcurrency, () => oneSession(ctx));
      if (warm.some((r) => r.status === 'rejected')) throw new Error(`warm-up failed: ${errorSummary(warm)}`);
      await quiesce(ctx);
      const zero = { commands: 0, scripts: 0, cpuSeconds: 0 };
      const before = (await ctx.server.redisStats?.()) ?? zero;
      const deadline = performance.now() + budgetSeconds * 1000;
      let done = 0;
      const m = await measure(
        ctx,
        () =>
          pool(sessions, sessionConcurrency, async () => {
            if (performance.now() > deadline) return;
            await oneSession(ctx);
            done++;
          }),
        300,
      );
      const after = (await ctx.server.redisStats?.()) ?? zero;
      const failed = m.result.filter((r) => r.status === 'rejected').length;
      if (done === 0 || failed > done / 10) throw new Error(`${failed} sessions failed: ${errorSummary(m.result)}`);
      const n = done + failed;
      // The INFO that read `before` is counted in `after`.
      const commands = Math.max(0, after.commands - before.commands - (ctx.server.redisStats ? 1 : 0));
      const out: Metrics = {
        perS: done / m.wall,
        cpuMs: (m.serverCpu * 1000) / n,
        redisCpuMs: ((after.cpuSeconds - before.cpuSeconds) * 1000) / n,
        redisCmds: commands / n,
        redisCalls: (after.scripts - before.scripts) / n,
        clientCpu: m.clientPct,
      };
      if (failed > 0) {
        out.failures = failed;
        ctx.note(`${failed} of ${n} sessions failed: ${errorSummary(m.result)}`);
      }
      return out;
    },
  };
}
