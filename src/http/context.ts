/**
 * What a web view request works with: the core's services, the anonymous
 * area (its Vfs, drop box and Access rules), the shared `.message` cache,
 * and the connection's session reference for events.
 */
import type { AnonymousArea } from '../auth/login.js';
import type { Core } from '../core/context.js';
import type { MessageCache } from '../core/message.js';
import type { PageCache } from './pageCache.js';
import type { LiveTransfer } from '../core/sessions.js';
import type { UserRef } from '../events/events.js';

/** One admitted connection, as the admin console sees it. */
export interface HttpSession {
  /** The connection as an anonymous session, for events. */
  readonly ref: UserRef;
  /** True over HTTPS. */
  readonly secure: boolean;
  /** Epoch milliseconds of the connection. */
  readonly connectedAt: number;
  /** Epoch milliseconds of the last request or download chunk. */
  lastActive: number;
  /** The directory of the last request. */
  cwd: string;
  /** The download running now, if any. */
  transfer: LiveTransfer | null;
}

/** The web view's shared context. */
export interface HttpContext {
  readonly core: Core;
  /** The anonymous root, read-only, with its rules. */
  readonly area: AnonymousArea;
  /** Bytes per second per download (the anonymous `max_rate`); 0 for none. */
  readonly maxRate: number;
  readonly messages: MessageCache;
  /** Directory pages rendered in the last seconds. */
  readonly pages: PageCache;
  /** Registers a running download, so a shutdown can give it its grace time. */
  track(download: Promise<void>): void;
}

/** One request's context: the shared one plus its connection's session. */
export interface RequestContext extends HttpContext {
  /** The connection's session, as an anonymous user, for events (`session.ref`). */
  readonly ref: UserRef;
  readonly session: HttpSession;
}
