/** Parsing of `ftp://` and `ftps://` URLs into connection options and a path. */
import { FtpClientError } from './errors.js';

/** What an FTP URL says. */
export interface ParsedFtpUrl {
  host: string;
  port: number;
  /** `implicit` for ftps://, undefined for ftp://. */
  secure: 'implicit' | undefined;
  /** Percent-decoded user name, if the URL names one. */
  user: string | undefined;
  /** Percent-decoded password, if the URL carries one. */
  password: string | undefined;
  /**
   * Percent-decoded path, relative to the login directory as RFC 1738 says
   * (`ftp://h/pub/f` is `pub/f`; `ftp://h/%2Fetc` is `/etc`). Empty for the
   * login directory itself.
   */
  path: string;
  /** True when the URL path ends with `/` (names a directory). */
  isDirectory: boolean;
}

/** Parses an FTP URL. Throws a clear error for anything else. */
export function parseFtpUrl(text: string): ParsedFtpUrl {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new FtpClientError(`not a valid URL: ${text}`);
  }
  if (url.protocol !== 'ftp:' && url.protocol !== 'ftps:') {
    throw new FtpClientError(`unsupported URL scheme ${url.protocol.replace(/:$/, '')}: use ftp:// or ftps://`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new FtpClientError(`URL has no host: ${text}`);
  const secure = url.protocol === 'ftps:' ? 'implicit' : undefined;
  const port = url.port ? Number(url.port) : secure ? 990 : 21;
  const rawPath = url.pathname.replace(/;type=[aid]$/i, '');
  const path = rawPath
    .replace(/^\//, '')
    .split('/')
    .map((seg) => decode(seg, text))
    .join('/');
  return {
    host,
    port,
    secure,
    user: url.username ? decode(url.username, text) : undefined,
    password: url.password ? decode(url.password, text) : url.username && text.includes(`${url.username}:@`) ? '' : undefined,
    path,
    isDirectory: rawPath === '' || rawPath.endsWith('/'),
  };
}

/** A percent-encoded URL part, decoded; CR, LF and NUL are refused (they would end a command). */
export function decode(segment: string, url: string): string {
  try {
    const value = decodeURIComponent(segment);
    if (/[\r\n\0]/.test(value)) throw new Error('control characters');
    return value;
  } catch {
    throw new FtpClientError(`invalid percent-encoding in URL: ${url}`);
  }
}
