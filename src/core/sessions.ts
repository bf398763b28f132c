/**
 * Live sessions, as the operator's console sees them, whatever the
 * protocol: each protocol room lists its own on request (nothing is kept
 * up to date per event) and can end one.
 */
import type { Protocol } from '../events/events.js';

/** A transfer in progress. */
export interface LiveTransfer {
  /** The virtual path; null for a listing. */
  path: string | null;
  direction: 'upload' | 'download';
  /** Bytes moved so far. */
  bytes: number;
  /** The whole size when known (downloads). */
  size: number | null;
}

/** One session, as the admin API shows it (`GET /api/sessions`). */
export interface SessionInfo {
  /** Unique across the server's protocols. */
  id: number;
  /** Null before login. */
  user: string | null;
  anonymous: boolean;
  address: string;
  protocol: Protocol;
  /** True when the session is encrypted (FTPS, SFTP, HTTPS). */
  secure: boolean;
  cwd: string;
  /** Epoch milliseconds of the connection. */
  connectedAt: number;
  /** Seconds since the session last did anything. */
  idleSeconds: number;
  transfer: LiveTransfer | null;
}

/** A protocol room's sessions. */
export interface SessionSource {
  /** The sessions open now (a source in another process answers asynchronously). */
  sessions(): SessionInfo[] | Promise<SessionInfo[]>;
  /**
   * Ends a session: its client gets 421 (or the connection closes) and a
   * running transfer is cut cleanly (an upload leaves no half file). False
   * when this room has no session with that id.
   */
  disconnect(id: number, reason: string): boolean | Promise<boolean>;
}

/** Several rooms as one source. */
export function combineSources(sources: readonly SessionSource[]): SessionSource {
  return {
    sessions: async () => (await Promise.all(sources.map(async (s) => s.sessions()))).flat().sort((a, b) => a.id - b.id),
    disconnect: async (id, reason) => {
      for (const s of sources) if (await s.disconnect(id, reason)) return true;
      return false;
    },
  };
}
