/**
 * A leak check: fails a test that leaves sockets, servers, timers or other
 * handles open. It compares the process's active resources (as Node counts
 * them) after the test with a snapshot taken before, allowing the closes
 * already under way a bounded number of event-loop turns to complete.
 *
 * Set WHARF_LEAK_TRACE=1 to have a failure list where each leaked resource
 * was created (an async hook records creation stacks; slow, so off by default).
 */
import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';

/** Resource kinds that a finished test must not leave behind. */
const WATCHED = new Set(['TCPServerWrap', 'TCPSocketWrap', 'TCPWrap', 'PipeWrap', 'TLSWrap', 'Timeout', 'FSReqCallback', 'ProcessWrap', 'Immediate', 'FileHandle', 'WorkerThread']);

function counts(): Map<string, number> {
  const out = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) if (WATCHED.has(kind)) out.set(kind, (out.get(kind) ?? 0) + 1);
  return out;
}

function excess(before: Map<string, number>): string[] {
  const now = counts();
  const extra: string[] = [];
  for (const [kind, n] of now) {
    const was = before.get(kind) ?? 0;
    if (n > was) extra.push(`${n - was} ${kind}`);
  }
  return extra;
}

/** Handles (sockets, servers, child processes) as objects, to unref the leaked ones after a failure. */
function handles(): { unref?: () => unknown }[] {
  return (process as unknown as { _getActiveHandles(): { unref?: () => unknown }[] })._getActiveHandles();
}

/** Creation stacks of handles and live timers, when WHARF_LEAK_TRACE is set. */
const trace = process.env.WHARF_LEAK_TRACE ? startTrace() : null;

type Traced = { seq: number; stack: string };

function startTrace(): { seq(): number; describe(seq: number, newHandles: unknown[]): string } {
  const TYPES = new Set(['TCPWRAP', 'TCPSERVERWRAP', 'PIPEWRAP', 'PIPESERVERWRAP', 'TLSWRAP', 'PROCESSWRAP', 'Timeout']);
  let counter = 0;
  const created = new WeakMap<object, Traced>();
  const timers = new Map<number, { timer: { hasRef(): boolean; _destroyed?: boolean } } & Traced>();
  createHook({
    init(id, type, _trigger, resource) {
      if (!TYPES.has(type)) return;
      const entry = { seq: ++counter, stack: (new Error().stack ?? '').split('\n').slice(3, 15).join('\n') };
      created.set(resource, entry);
      if (type === 'Timeout') timers.set(id, { ...entry, timer: resource as { hasRef(): boolean } });
    },
    destroy(id) {
      timers.delete(id);
    },
  }).enable();
  return {
    seq: () => counter,
    describe(seq, newHandles) {
      const out: string[] = [];
      for (const h of newHandles as { constructor: { name: string }; _handle?: object; localPort?: number; remotePort?: number; pid?: number }[]) {
        const where = h._handle ? created.get(h._handle) : undefined;
        const what = `${h.constructor.name}${h.pid ? ` pid ${h.pid}` : ''}${h.localPort ? ` local port ${h.localPort}` : ''}${h.remotePort ? ` remote port ${h.remotePort}` : ''}`;
        out.push(`${what}\n${where?.stack ?? '(created before tracing)'}`);
      }
      for (const t of timers.values()) if (t.seq > seq && t.timer.hasRef() && !t.timer._destroyed) out.push(`Timeout\n${t.stack}`);
      return out.join('\n---\n');
    },
  };
}

/**
 * Snapshots the active resources; call the returned function at the end of
 * the test. On a failure the handles opened since the snapshot are unref'd,
 * so that the leak fails the test instead of keeping the process (and the
 * whole run) from ever finishing.
 */
export function leakCheck(): () => Promise<void> {
  const before = counts();
  const beforeHandles = new Set(handles());
  const seq = trace?.seq() ?? 0;
  return async () => {
    let extra = excess(before);
    // Closes finish on later turns of the event loop (bounded: 200 turns). Polling is the only way:
    // Node has no event for "this handle is gone".
    for (let i = 0; i < 200 && extra.length > 0; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      extra = excess(before);
    }
    if (extra.length === 0) return;
    const fresh = handles().filter((h) => !beforeHandles.has(h));
    const where = trace ? `\n${trace.describe(seq, fresh)}` : ' (set WHARF_LEAK_TRACE=1 to see where they were created)';
    for (const h of fresh) h.unref?.();
    assert.deepEqual(extra, [], `the test left handles open: ${extra.join(', ')}${where}`);
  };
}
