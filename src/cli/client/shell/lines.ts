/**
 * Line input for the shell over node:readline: prompts and history on a
 * terminal, tab completion, a hidden mode for passwords, and plain line
 * reading (no prompt) when standard input is not a terminal.
 */
import readline from 'node:readline';
import { MutableOutput } from '../prompt.js';

/** A completer as node:readline takes it (callback form). */
export type Completer = (line: string, callback: (err: Error | null, result: [string[], string]) => void) => void;

/** Reads lines one at a time; `null` means end of input. */
export class LineReader {
  private readonly rl: readline.Interface;
  private readonly output: MutableOutput;
  private readonly queue: string[] = [];
  private waiter: ((line: string | null) => void) | undefined;
  private ended = false;
  /** Called on Ctrl-C at a terminal. */
  onInterrupt: (() => void) | undefined;

  constructor(
    input: NodeJS.ReadableStream,
    output: NodeJS.WritableStream,
    readonly terminal: boolean,
    completer?: Completer,
  ) {
    this.output = new MutableOutput(output);
    this.rl = readline.createInterface({
      input,
      output: this.output,
      terminal,
      historySize: terminal ? 500 : 0,
      ...(terminal && completer ? { completer } : {}),
    });
    this.rl.on('line', (line) => {
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = undefined;
        w(line);
      } else {
        this.queue.push(line);
      }
    });
    this.rl.on('close', () => {
      this.ended = true;
      const w = this.waiter;
      this.waiter = undefined;
      w?.(null);
    });
    this.rl.on('SIGINT', () => {
      if (this.onInterrupt) this.onInterrupt();
      else {
        this.output.write('^C\n');
        this.rl.prompt();
      }
    });
  }

  /**
   * Next line. On a terminal `prompt` is shown (and with `hidden`, what is
   * typed is not echoed); otherwise nothing is shown, as the classic client
   * does when reading a script.
   */
  async line(prompt: string, hidden = false): Promise<string | null> {
    const queued = this.queue.shift();
    if (queued !== undefined) return queued;
    if (this.ended) return null;
    if (this.terminal) {
      this.rl.setPrompt(prompt);
      this.rl.prompt();
      this.output.muted = hidden;
    }
    try {
      return await new Promise<string | null>((resolve) => {
        this.waiter = resolve;
      });
    } finally {
      if (hidden && this.terminal) {
        this.output.muted = false;
        this.output.write('\n');
      }
    }
  }

  /** Stops reading. */
  close(): void {
    this.rl.close();
  }
}

/** Splits a command line into words; double quotes group words with spaces. */
export function splitArgs(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) {
    out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? ''));
  }
  return out;
}
