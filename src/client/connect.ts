/** Opening a client: TCP or implicit TLS, greeting, AUTH TLS, login, FEAT. */
import net from 'node:net';
import type tls from 'node:tls';
import { FtpClient } from './client.js';
import { ControlConnection } from './control.js';
import { FtpClientError, FtpReplyError, FtpTlsError } from './errors.js';
import type { ConnectOptions } from './options.js';
import { parseFtpUrl } from './url.js';

/**
 * Connects and logs in. Accepts an `ftp://` or `ftps://` URL (credentials
 * in it are used; the path is ignored) or options; `overrides` win over the
 * URL. With `login: false` the client is connected (and under TLS) but not
 * logged in: call {@link FtpClient.login}.
 */
export async function connect(target: string | ConnectOptions, overrides: Partial<ConnectOptions> = {}): Promise<FtpClient> {
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
