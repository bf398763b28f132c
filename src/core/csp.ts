/** Content-Security-Policy helpers shared by the web view and the admin page. */
import { createHash } from 'node:crypto';

/** `'sha256-...'`: the CSP source that allows one inline element with exactly this text. */
export function cspHash(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}
