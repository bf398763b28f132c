/**
 * `[[hooks]]`: subscribes the configured hooks to the server's events and
 * hands each matching event to the runner. An upload hook fires once per
 * completed upload, after the file is in place under its final name (the
 * `transfer` event of a complete upload); an interrupted upload fires none.
 * A download hook fires for complete and interrupted downloads alike, with
 * `status` saying which.
 */
import type { HookConfig, HookEventName } from '../../config/hooks.js';
import type { ServerEventMap, ServerEvents, TransferEvent, UserRef } from '../events.js';
import type { HookFields } from './fields.js';
import type { HookRunner } from './runner.js';

export { HookRunner, type HookRunnerOptions, type HookStats } from './runner.js';
export { hookEnvironment, type HookFields } from './fields.js';

/** Which node and worker the events come from (added to every hook's fields when set). */
export interface EventOrigin {
  node?: string;
  worker?: number;
}

/** Where a virtual path of an account is on this machine's disk, when its storage is local. */
export type LocalPathOf = (account: { user: string; anonymous: boolean }, path: string) => string | undefined;

/**
 * Subscribes `hooks` to `events`, handing matching events to `runner`;
 * returns the function that unsubscribes them (a reload subscribes anew).
 */
export function subscribeHooks(events: ServerEvents, hooks: readonly HookConfig[], runner: HookRunner, localPath: LocalPathOf, origin: EventOrigin = {}): () => void {
  const offs: (() => void)[] = [];
  const on = <K extends keyof ServerEventMap>(name: K, fn: (...args: ServerEventMap[K]) => void): void => {
    events.on(name, fn as never);
    offs.push(() => events.off(name, fn as never));
  };
  const fire = (name: HookEventName, fields: Omit<HookFields, 'event'>): void => {
    for (const h of hooks) if (h.event === name) runner.enqueue(h, { event: name, ...fields, ...origin });
  };
  const wanted = new Set(hooks.map((h) => h.event));
  const user = (e: UserRef, path: string): Omit<HookFields, 'event' | 'size' | 'status'> => {
    const local = localPath(e, path);
    return { protocol: e.protocol, user: e.user, remote_address: e.remote, path, ...(local === undefined ? {} : { local_path: local }) };
  };
  const transfer = (e: TransferEvent): Omit<HookFields, 'event'> => ({ ...user(e, e.path), size: e.offset + e.bytes, status: e.ok ? 'ok' : 'failed' });
  if (wanted.has('upload') || wanted.has('download'))
    on('transfer', (e) => {
      if (e.direction === 'download') fire('download', transfer(e));
      else if (e.ok) fire('upload', transfer(e));
    });
  if (wanted.has('login')) on('login', (e) => fire('login', { ...user(e, '/'), size: 0, status: 'ok' }));
  if (wanted.has('login-failed'))
    on('login-failed', (e) => fire('login-failed', { protocol: e.protocol, user: e.user, remote_address: e.remote, path: '', size: 0, status: 'failed' }));
  if (wanted.has('ban')) on('ban', (e) => fire('ban', { protocol: '', user: '', remote_address: e.remote, path: '', size: 0, status: 'ok' }));
  for (const name of ['delete', 'mkdir'] as const) if (wanted.has(name)) on(name, (e) => fire(name, { ...user(e, e.path), size: 0, status: 'ok' }));
  if (wanted.has('rename')) on('rename', (e) => fire('rename', { ...user(e, e.path), from: e.from, size: 0, status: 'ok' }));
  return () => {
    for (const off of offs) off();
  };
}
