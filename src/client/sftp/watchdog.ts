/**
 * The SFTP client's reply timeout. SFTP requests carry ids and may be many
 * in flight, so instead of one timer per request one watchdog watches the
 * connection: while any request waits, a reply (to any of them) must come
 * within the timeout, or the connection is closed and every waiting call
 * fails with {@link FtpTimeoutError}. A slow server that keeps answering is
 * never cut; an idle connection with nothing asked is never timed.
 */
import { FtpTimeoutError } from '../errors.js';

/** Watches the requests of one connection. */
export class Watchdog {
  private pending = 0;
  private last = 0;
  private timer: NodeJS.Timeout | undefined;
  private expired = false;

  /**
   * @param ms how long a waiting request may go without any reply
   * @param onExpire closes the connection (pending calls then fail)
   */
  constructor(
    private readonly ms: number,
    private readonly onExpire: () => void,
  ) {}

  /** Follows one request: its promise, with its failure turned into a timeout once the watchdog fired. */
  track<T>(request: Promise<T>): Promise<T> {
    if (this.expired) return Promise.reject(this.error());
    this.last = Date.now();
    if (this.pending++ === 0) this.arm();
    const settle = (): void => {
      this.last = Date.now();
      if (--this.pending === 0) this.disarm();
    };
    return request.then(
      (value) => {
        settle();
        return value;
      },
      (err: unknown) => {
        settle();
        throw this.expired ? this.error() : err;
      },
    );
  }

  /** Stops watching (the connection is closing). */
  stop(): void {
    this.disarm();
  }

  private error(): FtpTimeoutError {
    return new FtpTimeoutError(`no reply from the SFTP server within ${this.ms / 1000} s`);
  }

  private arm(): void {
    const period = Math.max(20, Math.min(1000, this.ms / 4));
    this.timer = setInterval(() => {
      if (this.expired || this.pending === 0 || Date.now() - this.last < this.ms) return;
      this.expired = true;
      this.disarm();
      this.onExpire();
    }, period);
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
