/** Parsing of `sftp://` URLs. */
import { FtpClientError } from '../errors.js';
import { decode } from '../url.js';

/** What an SFTP URL says. */
export interface ParsedSftpUrl {
  protocol: 'sftp';
  host: string;
  port: number;
  /** Percent-decoded user name, if the URL names one. */
  user: string | undefined;
  /** Percent-decoded password, if the URL carries one. */
  password: string | undefined;
  /**
   * Percent-decoded absolute path (`sftp://h/tmp/f` is `/tmp/f`), or one
   * relative to the login directory with `/~/` (`sftp://h/~/f` is `~/f`), as curl reads them.
   */
  path: string;
  /** True when the URL path ends with `/` (names a directory). */
  isDirectory: boolean;
}

/** Parses `sftp://[user[:password]@]host[:port]/path`. Throws a clear error for anything else. */
export function parseSftpUrl(text: string): ParsedSftpUrl {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new FtpClientError(`not a valid URL: ${text}`);
  }
  if (url.protocol !== 'sftp:') throw new FtpClientError(`not an sftp:// URL: ${text}`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new FtpClientError(`URL has no host: ${text}`);
  const raw = url.pathname || '/';
  let path = raw
    .split('/')
    .map((seg) => decode(seg, text))
    .join('/');
  if (path === '/~' || path.startsWith('/~/')) path = path.slice(1);
  return {
    protocol: 'sftp',
    host,
    port: url.port ? Number(url.port) : 22,
    user: url.username ? decode(url.username, text) : undefined,
    password: url.password ? decode(url.password, text) : url.username && text.includes(`${url.username}:@`) ? '' : undefined,
    path: path || '/',
    isDirectory: raw.endsWith('/') || path === '~',
  };
}
