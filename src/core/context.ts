/**
 * The services every protocol of one server shares: its config, events,
 * shared state, login decisions and the anonymous area. Owned by one
 * WharfServer; there are no module-level globals.
 */
import type { WharfConfig } from '../config/load.js';
import type { AnonymousArea, LoginService } from '../auth/login.js';
import type { SharedState } from '../state/types.js';
import type { ServerEvents } from '../events/events.js';
import type { Logger } from '../events/log.js';

/** What every protocol of one server works with. */
export interface Core {
  readonly config: WharfConfig;
  readonly log: Logger;
  readonly events: ServerEvents;
  readonly state: SharedState;
  readonly auth: LoginService;
  /** Anonymous access, when enabled. */
  readonly anonymous: AnonymousArea | null;
  /** A session id unique across the server's protocols. */
  nextSessionId(): number;
  /** True once shutdown has begun. */
  readonly closing: boolean;
}
