/** Errors of the SFTP client; all extend FtpClientError, like the FTP client's. */
import { FtpClientError } from '../errors.js';

/** SFTP status codes (draft-ietf-secsh-filexfer-02) and their usual meaning. */
const STATUS: Record<number, string> = {
  1: 'end of file',
  2: 'no such file',
  3: 'permission denied',
  4: 'failure',
  5: 'bad message',
  6: 'no connection',
  7: 'connection lost',
  8: 'operation unsupported',
};

/** A request the server answered with an SFTP error status. */
export class SftpError extends FtpClientError {
  override name = 'SftpError';
  /** The SFTP status code (2 no such file, 3 permission denied, 4 failure, ...), 0 when unknown. */
  readonly code: number;
  /** The request that failed, e.g. `open /pub/file`. */
  readonly command: string;

  constructor(code: number, text: string, command: string) {
    super(`${command}: ${text}`);
    this.code = code;
    this.command = command;
  }
}

/** The server's host key is unknown, changed or revoked: the connection was refused. */
export class SftpHostKeyError extends FtpClientError {
  override name = 'SftpHostKeyError';
  /** Why the key was refused. */
  readonly reason: 'unknown' | 'changed' | 'revoked';
  /** The key's `SHA256:` fingerprint. */
  readonly fingerprint: string;

  constructor(reason: 'unknown' | 'changed' | 'revoked', fingerprint: string, message: string) {
    super(message);
    this.reason = reason;
    this.fingerprint = fingerprint;
  }
}

/** Every authentication method (keys, password) was refused. */
export class SftpAuthError extends FtpClientError {
  override name = 'SftpAuthError';
}

/** Turns an ssh2 SFTP callback error into an {@link SftpError} naming the request. */
export function sftpError(err: unknown, command: string): Error {
  if (err instanceof FtpClientError) return err;
  const e = err as { code?: unknown; message?: string };
  const code = typeof e.code === 'number' ? e.code : 0;
  const text = STATUS[code] ?? e.message ?? String(err);
  const detail = e.message && STATUS[code] && e.message.toLowerCase() !== STATUS[code] ? ` (${e.message})` : '';
  return new SftpError(code, `${text}${detail}`, command);
}
