/**
 * The admin API's JSON routes (CONTRACT "Admin and web endpoints"): list
 * and end sessions; list, add and lift bans. Each route returns a status
 * and a body; the listener writes them. Bad input is a 400 with a message,
 * an unknown id a 404.
 */
import { isIP } from 'node:net';
import type { SessionSource } from '../core/sessions.js';
import type { SharedState } from '../state/types.js';
import type { ServerEvents } from '../events/events.js';

/** An answer: status and JSON body. */
export interface ApiAnswer {
  status: number;
  body: unknown;
}

/** What the routes act on. */
export interface ApiContext {
  sessions: SessionSource;
  state: SharedState;
  events: ServerEvents;
  /** Seconds of a ban added by hand without `seconds` (the configured ban time). */
  banSeconds: number;
}

const error = (status: number, message: string): ApiAnswer => ({ status, body: { error: message } });

/** The session list as the CONTRACT shapes it (plus a few fields the page uses). */
export async function sessionList(ctx: ApiContext): Promise<ApiAnswer> {
  return { status: 200, body: await ctx.sessions.sessions() };
}

/** `DELETE /api/sessions/ID`. */
export async function endSession(ctx: ApiContext, idText: string): Promise<ApiAnswer> {
  if (!/^\d{1,15}$/.test(idText)) return error(400, 'a session id is a number');
  const ok = await ctx.sessions.disconnect(Number(idText), 'Disconnected by the administrator.');
  return ok ? { status: 200, body: { disconnected: Number(idText) } } : error(404, `no session ${idText}`);
}

/** `GET /api/bans`. */
export async function banList(ctx: ApiContext): Promise<ApiAnswer> {
  const bans = await ctx.state.bans();
  return { status: 200, body: bans.map((b) => ({ address: b.address, until: b.until.toISOString() })) };
}

/** `POST /api/bans` with `{"address": "...", "seconds"?: N}`. */
export async function addBan(ctx: ApiContext, body: unknown): Promise<ApiAnswer> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return error(400, 'expected a JSON object such as {"address": "203.0.113.7"}');
  const { address, seconds } = body as { address?: unknown; seconds?: unknown };
  if (typeof address !== 'string' || isIP(address) === 0) return error(400, 'address must be an IPv4 or IPv6 address');
  if (seconds !== undefined && (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 1 || seconds > 365 * 86400)) {
    return error(400, 'seconds must be a whole number from 1 to 31536000');
  }
  const s = seconds ?? ctx.banSeconds;
  await ctx.state.ban(address, s);
  ctx.events.emit('ban', { remote: address, seconds: s });
  return { status: 201, body: { address, until: new Date(Date.now() + s * 1000).toISOString() } };
}

/** `DELETE /api/bans/ADDRESS`. */
export async function liftBan(ctx: ApiContext, address: string): Promise<ApiAnswer> {
  if (isIP(address) === 0) return error(400, 'not an IP address');
  return (await ctx.state.unban(address)) ? { status: 200, body: { lifted: address } } : error(404, `${address} is not banned`);
}
