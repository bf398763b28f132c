/**
 * Connection caps: total control connections, per source address, and
 * anonymous sessions. Counting only; the server decides what to reply.
 */

/** Counters for the caps of one server. */
export class ConnectionLimits {
  private total = 0;
  private readonly perIp = new Map<string, number>();
  private anonymous = 0;

  constructor(
    private readonly maxTotal: number,
    private readonly maxPerIp: number,
    private readonly maxAnonymous: number,
  ) {}

  /** Admits a connection, or says which cap it hits. */
  admit(ip: string): 'ok' | 'total' | 'per-ip' {
    if (this.total >= this.maxTotal) return 'total';
    const n = this.perIp.get(ip) ?? 0;
    if (n >= this.maxPerIp) return 'per-ip';
    this.total++;
    this.perIp.set(ip, n + 1);
    return 'ok';
  }

  /** Releases an admitted connection. */
  release(ip: string): void {
    this.total--;
    const n = (this.perIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(ip);
    else this.perIp.set(ip, n);
  }

  /** Takes an anonymous slot; false when all are in use. */
  takeAnonymous(): boolean {
    if (this.anonymous >= this.maxAnonymous) return false;
    this.anonymous++;
    return true;
  }

  /** Gives an anonymous slot back. */
  releaseAnonymous(): void {
    this.anonymous = Math.max(0, this.anonymous - 1);
  }

  /** Current counts, for STAT and logs. */
  get counts(): { total: number; anonymous: number } {
    return { total: this.total, anonymous: this.anonymous };
  }
}
