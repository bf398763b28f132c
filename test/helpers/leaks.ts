/**
 * A leak check: fails a test that leaves sockets, servers, timers or other
 * handles open. It compares the process's active resources (as Node counts
 * them) after the test with a snapshot taken before, allowing the closes
 * already under way a bounded number of event-loop turns to complete.
 */
import assert from 'node:assert/strict';

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

/** Snapshots the active resources; call the returned function at the end of the test. */
export function leakCheck(): () => Promise<void> {
  const before = counts();
  return async () => {
    let extra = excess(before);
    // Closes finish on later turns of the event loop (bounded: 200 turns).
    for (let i = 0; i < 200 && extra.length > 0; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      extra = excess(before);
    }
    assert.deepEqual(extra, [], `the test left handles open: ${extra.join(', ')}`);
  };
}
