/**
 * Listeners for passive data connections. Reserving a port and listening
 * on it are one step (bind), so no other process can take a port between
 * a check and its use.
 */
import { createServer, type Server, type Socket } from 'node:net';

/** Allocates passive listeners within a port range (or ephemeral ports). */
export class PassivePool {
  private next: number;
  /** Passive listeners open now (for the metrics). */
  inUse = 0;

  /** @param range inclusive port range, or undefined for ephemeral ports */
  constructor(private readonly range: readonly [number, number] | undefined) {
    this.next = range ? range[0] + Math.floor(Math.random() * (range[1] - range[0] + 1)) : 0;
  }

  /**
   * Listens on `host` at the next free port of the range. `onConnection`
   * receives every connection. Rejects when the whole range is busy.
   */
  async listen(host: string, onConnection: (s: Socket) => void): Promise<Server> {
    if (!this.range) return this.tryListen(host, 0, onConnection);
    const [lo, hi] = this.range;
    const size = hi - lo + 1;
    for (let i = 0; i < size; i++) {
      const port = this.next;
      this.next = port >= hi ? lo : port + 1;
      try {
        return await this.tryListen(host, port, onConnection);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      }
    }
    throw new Error('no free passive port');
  }

  private tryListen(host: string, port: number, onConnection: (s: Socket) => void): Promise<Server> {
    return new Promise((resolve, reject) => {
      const server = createServer({ noDelay: true }, onConnection);
      server.once('error', reject);
      server.listen({ host, port, exclusive: true, backlog: 4 }, () => {
        server.off('error', reject);
        server.on('error', () => undefined);
        this.inUse++;
        server.once('close', () => this.inUse--);
        resolve(server);
      });
    });
  }
}
