/**
 * Structured logging: JSON lines on stderr (pino). Passwords never reach
 * it: commands are logged through `redactCommand`.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

/** A logger writing JSON lines to stderr at `level`. */
export function createLogger(level: string): Logger {
  return pino(
    { level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } },
    pino.destination({ dest: 2, sync: true }),
  );
}

/** A logger that drops everything (tests, library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
