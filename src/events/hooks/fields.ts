/**
 * What a hook is told about an event (CONTRACT "Hook events"): the fields
 * of the JSON a URL hook receives, and the `WHARF_*` variables of a
 * command hook. Pure.
 */
import type { HookEventName } from '../../config/hooks.js';
import type { Protocol } from '../events.js';

/** One event, as hooks see it. */
export interface HookFields {
  event: HookEventName;
  protocol: Protocol | '';
  user: string;
  remote_address: string;
  /** The absolute virtual path (`/incoming/x.bin`); for a rename, the new name. */
  path: string;
  /** Bytes of the file (transfers: the whole file's size when known; else the bytes moved). */
  size: number;
  status: 'ok' | 'failed';
  /** Where the file is on this machine's disk, for local storage. */
  local_path?: string;
  /** A rename's old path. */
  from?: string;
  /** The node that saw the event (`wharf serve`: `[server] node` or the host name). */
  node?: string;
  /** The worker that saw it, on a node with `workers` (1 to N). */
  worker?: number;
}

/** The `WHARF_*` environment of a command hook. */
export function hookEnvironment(f: HookFields): Record<string, string> {
  const env: Record<string, string> = {
    WHARF_EVENT: f.event,
    WHARF_PROTOCOL: f.protocol,
    WHARF_USER: f.user,
    WHARF_REMOTE_ADDRESS: f.remote_address,
    WHARF_PATH: f.path,
    WHARF_SIZE: String(f.size),
    WHARF_STATUS: f.status,
  };
  if (f.local_path !== undefined) env['WHARF_LOCAL_PATH'] = f.local_path;
  if (f.from !== undefined) env['WHARF_FROM'] = f.from;
  if (f.node !== undefined) env['WHARF_NODE'] = f.node;
  if (f.worker !== undefined) env['WHARF_WORKER'] = String(f.worker);
  return env;
}
