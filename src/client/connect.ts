/** Opening a client: TCP or implicit TLS, greeting, AUTH TLS, login, FEAT; or SSH for sftp:// URLs. */
import net from 'node:net';
import type tls from 'node:tls';
import { FtpClient } from './client.js';
import { ControlConnection } from './control.js';
import { FtpClientError, FtpReplyError, FtpTlsError } from './errors.js';
import type { ConnectOptions } from './options.js';
import type { RemoteClient } from './remote.js';
import type { SftpClient } from './sftp/client.js';
import { connectSftp } from './sftp/connect.js';
import type { SftpConnectOptions } from './sftp/options.js';
import { parseSftpUrl } from './sftp/url.js';
import { parseFtpUrl } from './url.js';

/** An `sftp://` URL, as a type. */
export type SftpUrl = `sftp://${string}` | `SFTP://${string}`;

/** True for a URL with the sftp scheme. */
export function isSftpUrl(text: string): boolean {
  return /^sftp:\/\//i.test(text);
}

/** The SFTP options a URL and overrides give. */
function sftpOptions(url: string, overrides: Partial<SftpConnectOptions>): SftpConnectOptions {
  const u = parseSftpUrl(url);
  return { protocol: 'sftp', host: u.host, port: u.port, user: u.user, password: u.password, ...overrides };
}

/**
 * Connects and logs in. Accepts an `ftp://`, `ftps://` or `sftp://` URL
 * (credentials in it are used; the path is ignored) or options
 * (`protocol: 'sftp'` for SFTP); `overrides` win over the URL. FTP: with
 * `login: false` the client is connected (and under TLS) but not logged
 * in: call {@link FtpClient.login}. SFTP resolves with an {@link SftpClient}.
 * For a URL whose scheme is only known at run time, use {@link connectRemote}.
 */
export function connect(target: SftpUrl | SftpConnectOptions, overrides?: Partial<SftpConnectOptions>): Promise<SftpClient>;
export function connect(target: string | ConnectOptions, overrides?: Partial<ConnectOptions>): Promise<FtpClient>;
export function connect(
  target: string | ConnectOptions | SftpConnectOptions,
  overrides: Partial<ConnectOptions> | Partial<SftpConnectOptions> = {},
): Promise<FtpClient | SftpClient> {
  if (typeof target === 'string' && isSftpUrl(target)) return connectSftp(sftpOptions(target, overrides));
  if (typeof target !== 'string' && 'protocol' in target && target.protocol === 'sftp') return connectSftp({ ...target, ...(overrides as Partial<SftpConnectOptions>) });
  return connectFtp(target as string | ConnectOptions, overrides as Partial<ConnectOptions>);
}

/** Like {@link connect}, typed for a URL whose scheme (ftp, ftps, sftp) is not known until run time. */
export function connectRemote(target: string, overrides: Partial<ConnectOptions> & Partial<Omit<SftpConnectOptions, 'protocol'>> = {}): Promise<RemoteClient> {
  if (isSftpUrl(target)) {
    const { password, ...rest } = overrides;
    const sftpOverrides: Partial<SftpConnectOptions> = { ...(rest as Partial<SftpConnectOptions>), ...(password === undefined ? {} : { password }) };
    return connectSftp(sftpOptions(target, sftpOverrides));
  }
  return connectFtp(target, overrides);
}

async function connectFtp(target: string | ConnectOptions, overrides: Partial<ConnectOptions>): Promise<FtpClient> {
  let options: ConnectOptions;
  if (typeof target === 'string') {
    const u = parseFtpUrl(target);
    options = { host: u.host, port: u.port, user: u.user, password: u.password, secure: u.secure ?? false, ...overrides };
  } else {
    options = { ...target, ...overrides };
  }
  const mode = options.secure === 'implicit' ? 'implicit' : options.secure ? 'explicit' : undefined;
  const port = options.port ?? (mode === 'implicit' ? 990 : 21);
  const tlsOptions: tls.ConnectionOptions = {
    host: options.host,
    ...(net.isIP(options.host) ? {} : { servername: options.host }),
    ...(options.insecure ? { rejectUnauthorized: false } : {}),
    ...options.tlsOptions,
  };
  const { conn, greeting } = await ControlConnection.open({
    host: options.host,
    port,
    timeout: options.timeout ?? 30_000,
    implicitTls: mode === 'implicit' ? tlsOptions : undefined,
    log: options.log,
    signal: options.signal,
  }).catch((err: unknown) => {
    if (mode === 'implicit' && !(err instanceof FtpClientError)) throw new FtpTlsError(`TLS handshake failed: ${(err as Error).message}`);
    throw err;
  });
  if (greeting.code !== 220) {
    conn.close();
    throw new FtpReplyError(greeting.code, greeting.message, '(greeting)');
  }
  const client = new FtpClient(conn, { ...options, port });
  client.greeting = greeting;
  try {
    await client.init(tlsOptions, mode, options.signal);
    if (options.login !== false) await client.login(options.user, options.password, { signal: options.signal });
  } catch (err) {
    client.destroy();
    throw err;
  }
  return client;
}
