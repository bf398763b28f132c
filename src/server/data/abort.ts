/**
 * Cancelling a transfer (ABOR, data timeout, shutdown) without an
 * AbortController per transfer: those cost tens of microseconds each,
 * which shows when a client fetches thousands of small files.
 */
import type { Stream } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Why a transfer was cancelled. */
export type AbortReason = 'abort' | 'data-timeout';

/** A one-shot cancellation flag with listeners. */
export class TransferAbort {
  reason: AbortReason | null = null;
  private listeners: (() => void)[] = [];

  /** True once cancelled. */
  get aborted(): boolean {
    return this.reason !== null;
  }

  /** Cancels (the first reason wins) and tells every listener. */
  abort(reason: AbortReason = 'abort'): void {
    if (this.reason) return;
    this.reason = reason;
    const fns = this.listeners;
    this.listeners = [];
    for (const fn of fns) fn();
  }

  /** Calls `fn` on cancellation; returns a function that removes it. */
  on(fn: () => void): () => void {
    if (this.reason) {
      // Asynchronously, so callers can finish setting up (and hold the remover) first.
      queueMicrotask(fn);
      return () => undefined;
    }
    this.listeners.push(fn);
    return () => {
      const i = this.listeners.indexOf(fn);
      if (i !== -1) this.listeners.splice(i, 1);
    };
  }
}

/**
 * Resolves after `ms`, or sooner when the transfer is cancelled (ABOR, or
 * the control connection closing, which cancels the session's transfer).
 */
export function settle(abort: TransferAbort, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    const off = abort.on(done);
    function done(): void {
      clearTimeout(timer);
      off();
      resolve();
    }
  });
}

/** `pipeline`, with every stream destroyed on cancellation (the promise then rejects). */
export async function pipeAbortable(streams: Stream[], abort: TransferAbort): Promise<void> {
  const off = abort.on(() => {
    for (const s of streams) (s as Stream & { destroy(): void }).destroy();
  });
  try {
    await (pipeline as unknown as (s: readonly Stream[]) => Promise<void>)(streams);
  } finally {
    off();
  }
}
