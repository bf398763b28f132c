/**
 * The hook launcher: a small process the server forks once (see
 * src/events/hooks/launcher.ts) to start hook commands, so that spawning,
 * which stalls the caller's event loop while the child starts, never
 * stalls the server. It runs each command it is sent, with its time limit,
 * and reports how it ended; it ends with its parent.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { DoneMessage, RunMessage } from '../events/hooks/launcher.js';

/** The helper's side: runs each command it is sent and reports its end. */
function serve(): void {
  const running = new Map<number, ChildProcess>();
  const send = (m: DoneMessage): void => void process.send?.(m);
  process.on('message', (m: RunMessage | { kill: number }) => {
    if ('kill' in m) return void running.get(m.kill)?.kill('SIGTERM');
    const [program = '', ...args] = m.argv;
    const child = spawn(program, args, { env: { ...process.env, ...m.env }, stdio: ['ignore', 'ignore', 'pipe'], shell: false });
    running.set(m.id, child);
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => {
      if (stderr.length < 1024) stderr += d;
    });
    let killer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      killer = setTimeout(() => child.kill('SIGKILL'), 2000);
    }, m.timeoutMs);
    let reported = false;
    const report = (error: string | null): void => {
      if (reported) return;
      reported = true;
      clearTimeout(timer);
      clearTimeout(killer);
      running.delete(m.id);
      send({ id: m.id, error });
    };
    child.once('error', (err) => report(`cannot run ${program}: ${err.message}`));
    child.once('close', (code, sig) => {
      const tail = stderr.trim().split('\n').pop() ?? '';
      report(code === 0 ? null : `${program} ${sig ? `killed by ${sig}` : `exited with ${code}`}${tail ? `: ${tail.slice(0, 200)}` : ''}`);
    });
  });
  // The server gone (channel closed) or stopping us: stop what still runs.
  const stopAll = (): void => {
    for (const c of running.values()) c.kill('SIGKILL');
    process.exit(0);
  };
  process.on('disconnect', stopAll);
  process.on('SIGTERM', stopAll);
}

if (process.send) serve();
