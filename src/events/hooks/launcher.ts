/**
 * Starting hook commands without stalling the server. `spawn()` forks the
 * calling process, and the caller's event loop waits until the child has
 * started: about 2 ms for a small process, 20 ms for a server holding
 * 250 MiB, paid by every session of the server. So commands are started by
 * a small helper process, forked once (at the first hook), which spawns
 * them and reports how they ended over its IPC channel.
 *
 * The helper's side is src/cli/hookLauncher.ts (a process of its own, so
 * it lives with the other entry points); the messages are below.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A command to run. */
export interface RunMessage {
  id: number;
  argv: string[];
  env: Record<string, string>;
  /** Milliseconds before it is stopped (TERM, then KILL 2 s later). */
  timeoutMs: number;
}

/** How it ended. */
export interface DoneMessage {
  id: number;
  /** Null: it ran and exited 0. Else what went wrong, in one line. */
  error: string | null;
}

/** The helper's entry point, beside this module in the build. */
const HELPER = fileURLToPath(new URL('../../cli/hookLauncher.js', import.meta.url));

/** Runs hook commands through the helper process. */
export class HookLauncher {
  private child: ChildProcess | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, (error: string | null) => void>();

  /** Runs `argv` with `env` added; resolves when it ended well, rejects with the reason otherwise. */
  run(argv: string[], env: Record<string, string>, timeoutMs: number, signal: AbortSignal): Promise<void> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const child = this.helper();
      const onAbort = (): void => void child.send({ kill: id });
      signal.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, (error) => {
        signal.removeEventListener('abort', onAbort);
        if (error === null) resolve();
        else reject(new Error(error));
      });
      const msg: RunMessage = { id, argv, env, timeoutMs };
      // Held open while commands run; an idle helper keeps nothing alive.
      child.channel?.ref();
      child.send(msg);
    });
  }

  /** Stops the helper (the commands it started are stopped with it). */
  async close(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.ref(); // waited for: it must keep the loop alive until it is gone
    child.kill('SIGTERM');
    await gone;
  }

  private helper(): ChildProcess {
    if (this.child) return this.child;
    const child = fork(HELPER, [], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'], serialization: 'json' });
    child.on('message', (m: DoneMessage) => {
      const done = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (this.pending.size === 0) child.channel?.unref();
      done?.(m.error);
    });
    child.once('exit', () => {
      if (this.child === child) this.child = null;
      for (const done of this.pending.values()) done('the hook launcher stopped');
      this.pending.clear();
    });
    child.on('error', () => undefined);
    child.unref();
    child.channel?.unref();
    this.child = child;
    return child;
  }
}
