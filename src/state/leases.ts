/**
 * This process's own counted connections: the truth its lease in Redis
 * mirrors (and is rewritten from after an outage), and what local limits
 * count while Redis is unreachable.
 */

/** The connections one process holds. */
export class LocalLeases {
  private total = 0;
  private anonymous = 0;
  private readonly perIp = new Map<string, number>();
  /** Bumped by every change, so a copy can tell which changes it holds. */
  version = 0;

  /** Connections held now. */
  get counts(): { total: number; anonymous: number } {
    return { total: this.total, anonymous: this.anonymous };
  }

  /** Connections held from `ip`. */
  from(ip: string): number {
    return this.perIp.get(ip) ?? 0;
  }

  add(ip: string): void {
    this.version++;
    this.total++;
    this.perIp.set(ip, this.from(ip) + 1);
  }

  remove(ip: string): void {
    this.version++;
    this.total = Math.max(0, this.total - 1);
    const n = this.from(ip) - 1;
    if (n > 0) this.perIp.set(ip, n);
    else this.perIp.delete(ip);
  }

  addAnonymous(): void {
    this.version++;
    this.anonymous++;
  }

  removeAnonymous(): void {
    this.version++;
    this.anonymous = Math.max(0, this.anonymous - 1);
  }

  /** The lease hash's fields and values: `t`, `a`, then `i:<address>` for each address. */
  fields(): string[] {
    const out = ['t', String(this.total), 'a', String(this.anonymous)];
    for (const [ip, n] of this.perIp) out.push(`i:${ip}`, String(n));
    return out;
  }
}
