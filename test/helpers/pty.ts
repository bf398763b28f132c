/**
 * Runs a program on a pseudo-terminal, so a test can drive it like a user
 * at a terminal: typed lines, and Ctrl-C delivered as a real SIGINT by the
 * terminal's line discipline (what an interactive client's abort handler
 * expects). Node has no pty of its own; python3's `pty` module (standard
 * library) relays between the test's pipes and the terminal.
 *
 * Every wait is bounded; `close()` kills what is left.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';

/** Relay: stdin -> terminal, terminal -> stdout; exits with the program's status. */
const RELAY = 'import os, pty, sys\nsys.exit(os.waitstatus_to_exitcode(pty.spawn(sys.argv[1:])))';

/** A program running on a pseudo-terminal. */
export class PtyProcess {
  private text = '';
  private waiters: (() => void)[] = [];
  private exitCode: number | null | undefined;
  readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding('latin1');
    child.stdout.on('data', (d: string) => {
      this.text += d;
      for (const w of this.waiters.splice(0)) w();
    });
    child.stderr.setEncoding('latin1');
    child.stderr.on('data', (d: string) => (this.text += d));
    child.stdin.on('error', () => undefined);
    this.exited = once(child, 'close').then(([code]) => {
      this.exitCode = code as number | null;
      for (const w of this.waiters.splice(0)) w();
      return this.exitCode;
    });
  }

  /** Starts `cmd args` on a new terminal. Rejects if python3 cannot be run. */
  static async start(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<PtyProcess> {
    const child = spawn('python3', ['-c', RELAY, cmd, ...args], {
      env: { ...process.env, LC_ALL: 'C.UTF-8', TERM: 'dumb', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    await Promise.race([
      once(child, 'spawn'),
      once(child, 'error').then(([e]) => {
        throw new Error(`cannot run python3: ${(e as Error).message}`);
      }),
    ]);
    return new PtyProcess(child);
  }

  /** Everything the program wrote to the terminal so far (with the terminal's echo). */
  get output(): string {
    return this.text;
  }

  /** Types `text` (a line needs its "\n"). */
  type(text: string): void {
    this.child.stdin.write(text);
  }

  /** Presses Ctrl-C: the terminal sends SIGINT to the program. */
  interrupt(): void {
    this.type('\x03');
  }

  /**
   * Resolves with the match once the output from offset `from` on matches
   * `pattern`; rejects after `timeoutMs` or when the program has exited
   * without it.
   */
  async waitFor(pattern: RegExp, from = 0, timeoutMs = 15_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = pattern.exec(this.text.slice(from));
      if (m) return m;
      if (this.exitCode !== undefined) throw new Error(`exited (${this.exitCode}) before ${pattern}; output:\n${this.text.slice(-3000)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${pattern}; output:\n${this.text.slice(-3000)}`);
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        timer = setTimeout(resolve, left);
        this.waiters.push(resolve);
      });
      clearTimeout(timer);
    }
  }

  /** Waits for the program to exit (bounded); kills it when it does not. */
  async waitExit(timeoutMs = 15_000): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)));
    const r = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (r === 'late') {
      await this.close();
      throw new Error(`did not exit within ${timeoutMs} ms; output:\n${this.text.slice(-3000)}`);
    }
    return r;
  }

  /** Kills the relay and the program (closing the terminal hangs the program up) and waits for the end. */
  async close(): Promise<void> {
    if (this.exitCode !== undefined) return;
    this.child.stdin.end();
    this.child.kill('SIGKILL');
    await this.exited;
  }
}
