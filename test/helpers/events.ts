/**
 * Waiting on server events instead of polling: subscribe before the action
 * that causes the event, then await the returned promise. Every wait is
 * bounded, so a missing event fails the test instead of hanging it.
 */
import type { WharfServer } from '../../src/host/server.js';
import type { ServerEventMap, ServerEventName } from '../../src/events/events.js';

/**
 * Default bound on a wait. Generous on purpose: the events awaited in the
 * tests normally arrive within milliseconds, and shared 2-core machines
 * can be several times slower than a developer's.
 */
export const EVENT_TIMEOUT_MS = 15_000;

/** The payload of a server event (every event has exactly one argument). */
export type EventOf<K extends ServerEventName> = ServerEventMap[K][0];

/**
 * Resolves with the first `count` `name` events that match `predicate`,
 * in order; rejects after `timeoutMs`. Subscribes at once (synchronously),
 * so call it before the action and await it after.
 */
export function waitForEvents<K extends ServerEventName>(
  server: WharfServer,
  name: K,
  count: number,
  predicate: (event: EventOf<K>) => boolean = () => true,
  timeoutMs = EVENT_TIMEOUT_MS,
): Promise<EventOf<K>[]> {
  const seen: EventOf<K>[] = [];
  let listener: ((...args: ServerEventMap[K]) => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<EventOf<K>[]>((resolve, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${count} '${name}' event(s); saw ${seen.length}: ${JSON.stringify(seen)}`));
    }, timeoutMs);
    listener = (...args: ServerEventMap[K]) => {
      const event = args[0] as EventOf<K>;
      if (!predicate(event)) return;
      seen.push(event);
      if (seen.length >= count) resolve(seen);
    };
    server.on(name, listener);
    if (count <= 0) resolve(seen);
  }).finally(() => {
    clearTimeout(timer);
    if (listener) server.off(name, listener);
  });
  // A wait abandoned because the test failed earlier must not also raise an unhandled rejection;
  // awaiting the returned promise still sees the rejection.
  promise.catch(() => undefined);
  return promise;
}

/**
 * Resolves with the first `name` event matching `predicate`; rejects after
 * `timeoutMs`. Subscribes at once: call it before the action.
 *
 * @example
 *   const gone = waitForEvent(srv.server, 'disconnect');
 *   session.close();
 *   await gone;
 */
export function waitForEvent<K extends ServerEventName>(
  server: WharfServer,
  name: K,
  predicate: (event: EventOf<K>) => boolean = () => true,
  timeoutMs = EVENT_TIMEOUT_MS,
): Promise<EventOf<K>> {
  const promise = waitForEvents(server, name, 1, predicate, timeoutMs).then(([event]) => event as EventOf<K>);
  promise.catch(() => undefined);
  return promise;
}
