/**
 * What the cluster's primary and its workers say to each other over IPC
 * (besides the shared state's own requests, state/ipc.ts). Every message
 * is a plain JSON object with `wharf` naming its kind.
 *
 * Worker to primary: `listening` (with its addresses) or `failed` (with
 * one line per problem) once at start; `answer` to a primary's `ask`;
 * `event` (a finished transfer or a ban, for the status page).
 * Primary to worker: `ask` (sessions, disconnect, metrics, reload) and
 * `close` (graceful shutdown).
 */
import type { ListeningAddresses } from '../server.js';
import type { TransferEvent, BanEvent } from '../../events/events.js';

/** What the primary may ask a worker. */
export type AskOp = 'sessions' | 'disconnect' | 'metrics' | 'reload';

/** Primary to worker: a question; the worker answers with the same `id`. */
export interface AskMessage {
  wharf: 'ask';
  id: number;
  op: AskOp;
  args: (string | number)[];
}

/** Worker to primary: the answer to `ask` `id` (`error`: one line). */
export interface AnswerMessage {
  wharf: 'answer';
  id: number;
  value?: unknown;
  error?: string;
}

/** Worker to primary: its listeners are up. */
export interface ListeningMessage {
  wharf: 'listening';
  addresses: ListeningAddresses;
}

/** Worker to primary: it could not start (`problems`: one line each, as `wharf serve` prints them). */
export interface FailedMessage {
  wharf: 'failed';
  problems: string[];
}

/** Worker to primary: an event the node's console shows. */
export type EventMessage = { wharf: 'event'; name: 'transfer'; event: TransferEvent } | { wharf: 'event'; name: 'ban'; event: BanEvent };

/** Primary to worker: close gracefully, then exit. */
export interface CloseMessage {
  wharf: 'close';
}

/** Anything a worker sends (besides state requests). */
export type WorkerMessage = ListeningMessage | FailedMessage | AnswerMessage | EventMessage;

/** Anything the primary sends (besides state replies). */
export type PrimaryMessage = AskMessage | CloseMessage;

function kind(m: unknown): unknown {
  return typeof m === 'object' && m !== null ? (m as { wharf?: unknown }).wharf : undefined;
}

/** True for a message from a worker this module defines. */
export function isWorkerMessage(m: unknown): m is WorkerMessage {
  const k = kind(m);
  return k === 'listening' || k === 'failed' || k === 'answer' || k === 'event';
}

/** True for a message from the primary this module defines. */
export function isPrimaryMessage(m: unknown): m is PrimaryMessage {
  const k = kind(m);
  return k === 'ask' || k === 'close';
}
