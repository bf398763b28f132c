/** Terminal prompts: a visible question and a password prompt that never echoes. */
import readline from 'node:readline';
import { Writable } from 'node:stream';

/** A writable that forwards to `target` unless muted (used to hide typed passwords). */
export class MutableOutput extends Writable {
  /** While true, nothing is written. */
  muted = false;

  constructor(private readonly target: NodeJS.WritableStream & { columns?: number; isTTY?: boolean }) {
    super();
  }

  /** Width of the terminal, for readline. */
  get columns(): number | undefined {
    return this.target.columns;
  }

  /** True when the target is a terminal. */
  get isTTY(): boolean | undefined {
    return this.target.isTTY;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (!this.muted) this.target.write(chunk);
    cb();
  }
}

/** Asks a question on a terminal; with `hidden`, typed characters are not echoed. */
export async function ask(question: string, options: { hidden?: boolean; input?: NodeJS.ReadableStream; output?: NodeJS.WritableStream } = {}): Promise<string> {
  const input = options.input ?? process.stdin;
  const target = options.output ?? process.stderr;
  const output = new MutableOutput(target);
  const rl = readline.createInterface({ input, output, terminal: true });
  try {
    target.write(question);
    output.muted = options.hidden ?? false;
    return await new Promise<string>((resolve, reject) => {
      rl.once('line', resolve);
      rl.once('close', () => reject(new Error('input ended before an answer')));
      rl.once('SIGINT', () => reject(new Error('interrupted')));
    });
  } finally {
    output.muted = false;
    if (options.hidden) target.write('\n');
    rl.close();
  }
}
