/**
 * Typed errors raised by the FTP client. Every error that comes from a server
 * reply carries the reply code, the server's message and the command that
 * failed, so callers can branch on `err.code` instead of parsing text.
 */

/** Base class of every error thrown by the client library. */
export class FtpClientError extends Error {
  override name = 'FtpClientError';
}

/** A server answered a command with a negative (4xx/5xx) or unexpected reply. */
export class FtpReplyError extends FtpClientError {
  override name = 'FtpReplyError';
  /** The three-digit reply code, e.g. 550. */
  readonly code: number;
  /** The reply text without the code (lines joined by newlines). */
  readonly reply: string;
  /** The command that failed, with any password masked. */
  readonly command: string;

  constructor(code: number, reply: string, command: string) {
    super(`${command}: ${code} ${reply}`);
    this.code = code;
    this.reply = reply;
    this.command = command;
  }

  /** True for transient (4xx) failures that may succeed when retried. */
  get transient(): boolean {
    return this.code >= 400 && this.code < 500;
  }
}

/** The server sent something that is not valid FTP, or closed unexpectedly. */
export class FtpProtocolError extends FtpClientError {
  override name = 'FtpProtocolError';
}

/** The connection was closed (by the server, the network or `close()`). */
export class FtpConnectionClosedError extends FtpClientError {
  override name = 'FtpConnectionClosedError';
}

/** An operation took longer than the configured timeout. */
export class FtpTimeoutError extends FtpClientError {
  override name = 'FtpTimeoutError';
}

/** An operation was cancelled through its `AbortSignal`. */
export class FtpAbortError extends FtpClientError {
  override name = 'AbortError';
}

/**
 * A transfer ended without error replies but moved a different number of
 * bytes than expected: the result must not be trusted.
 */
export class FtpIntegrityError extends FtpClientError {
  override name = 'FtpIntegrityError';
  /** Bytes expected (from SIZE or the local file). */
  readonly expected: number;
  /** Bytes actually moved. */
  readonly actual: number;

  constructor(message: string, expected: number, actual: number) {
    super(message);
    this.expected = expected;
    this.actual = actual;
  }
}

/** TLS was demanded but the server refused it; the client never falls back. */
export class FtpTlsError extends FtpClientError {
  override name = 'FtpTlsError';
}

/**
 * Masks the argument of PASS (and ACCT) in a command line, for logs and
 * error messages. Kept under this name for the public API; it is the
 * protocol core's `redactCommandLine`.
 */
export { redactCommandLine as maskCommand } from '../protocol/command.js';
