/**
 * Anonymous access hours (RFC 1635's "non-prime hours"): `"18:00-08:00"` in
 * a time zone. Pure: parsing for the config, and the check for a given
 * instant; a window may cross midnight; equal ends mean all day.
 */

/** A daily window, in minutes after local midnight. */
export interface HoursWindow {
  start: number;
  end: number;
  /** The text as configured, for messages. */
  text: string;
}

const TIME = /^([01]?\d|2[0-3]):([0-5]\d)$/;

/** Parses `HH:MM-HH:MM`; null when malformed. */
export function parseHours(text: string): HoursWindow | null {
  const parts = text.trim().split('-');
  if (parts.length !== 2) return null;
  const [a, b] = parts.map((p) => TIME.exec(p.trim()));
  if (!a || !b) return null;
  return { start: Number(a[1]) * 60 + Number(a[2]), end: Number(b[1]) * 60 + Number(b[2]), text: text.trim() };
}

/** True when `zone` is an IANA time zone this Node knows (or `UTC`). */
export function validTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** Minutes after midnight at `now` in `zone`. */
export function minutesIn(zone: string, now: Date): number {
  let f = formats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formats.set(zone, f);
  }
  let hour = 0;
  let minute = 0;
  for (const p of f.formatToParts(now)) {
    if (p.type === 'hour') hour = Number(p.value);
    else if (p.type === 'minute') minute = Number(p.value);
  }
  return hour * 60 + minute;
}

/** True when `now` falls inside the window, in `zone`. */
export function withinHours(window: HoursWindow, zone: string, now: Date): boolean {
  const m = minutesIn(zone, now);
  if (window.start === window.end) return true;
  if (window.start < window.end) return m >= window.start && m < window.end;
  return m >= window.start || m < window.end;
}
