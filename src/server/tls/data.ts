/**
 * TLS on data connections (PROT P). The server is the TLS server in both
 * passive and active mode (RFC 4217 section 7). The handshake must resume
 * the control connection's TLS session: only this FTP session's context
 * can decrypt its tickets, so a resumed session proves the data connection
 * comes from the same TLS client.
 */
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import type { TransferAbort } from '../data/abort.js';

/** A data connection refused at the TLS level, with its reply. */
export class DataTlsError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Options of the data channel handshake. */
export interface DataTlsOptions {
  requireReuse: boolean;
  timeoutMs: number;
  abort: TransferAbort;
}

/** Runs the server side of the TLS handshake on a data connection. */
export function secureDataConnection(raw: Socket, context: SecureContext, opts: DataTlsOptions): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = new TLSSocket(raw, { isServer: true, secureContext: context });
    const fail = (err: DataTlsError) => {
      cleanup();
      secure.destroy();
      raw.destroy();
      reject(err);
    };
    const onError = () => fail(new DataTlsError(425, 'TLS negotiation on the data connection failed.'));
    const timer = setTimeout(() => fail(new DataTlsError(425, 'Timed out waiting for TLS on the data connection.')), opts.timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      secure.off('error', onError);
      off();
    };
    secure.once('error', onError);
    const off = opts.abort.on(() => fail(new DataTlsError(426, 'Transfer aborted.')));
    secure.once('secure', () => {
      if (opts.requireReuse && !secure.isSessionReused()) {
        fail(new DataTlsError(522, 'Data connection refused: it must reuse the TLS session of the control connection.'));
        return;
      }
      cleanup();
      secure.on('error', () => undefined);
      resolve(secure);
    });
  });
}
