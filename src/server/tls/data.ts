/**
 * TLS on data connections (PROT P). The server is the TLS server in both
 * passive and active mode (RFC 4217 section 7). With `require_session_reuse`
 * the handshake must resume a TLS session issued to this FTP session's
 * control connection or to a sibling one (same client address, same
 * account; see issuers.ts): the ClientHello is read first to pick the
 * context whose ticket key the client names, and only that context can
 * decrypt the ticket, so a resumed session proves where it came from.
 */
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import type { TransferAbort } from '../data/abort.js';
import { peekClientHello, ticketKeyNames } from './hello.js';
import { TicketIssuers } from './issuers.js';
import { holdContext } from './material.js';

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
    let secure: TLSSocket | null = null;
    let settled = false;
    /** Stops the look at the ClientHello, or the wait for a sibling's login. */
    let stopPeek = (): unknown => undefined;
    const finish = () => {
      settled = true;
      clearTimeout(timer);
      off();
      stopPeek();
    };
    const fail = (err: DataTlsError) => {
      if (settled) return;
      finish();
      secure?.destroy();
      raw.destroy();
      reject(err);
    };
    const onError = () => fail(new DataTlsError(425, 'TLS negotiation on the data connection failed.'));
    const timer = setTimeout(() => fail(new DataTlsError(425, 'Timed out waiting for TLS on the data connection.')), opts.timeoutMs);
    const off = opts.abort.on(() => fail(new DataTlsError(426, 'Transfer aborted.')));
    const handshake = (chosen: SecureContext) => {
      const s = new TLSSocket(raw, { isServer: true, secureContext: chosen });
      s.once('close', holdContext(chosen));
      secure = s;
      s.once('error', onError);
      s.once('secure', () => {
        if (opts.requireReuse && !s.isSessionReused()) {
          fail(new DataTlsError(522, 'Data connection refused: it must reuse the TLS session of a control connection of yours.'));
          return;
        }
        finish();
        s.off('error', onError);
        s.on('error', () => undefined);
        resolve(s);
      });
    };
    const registry = opts.requireReuse ? TicketIssuers.of(context) : null;
    if (!registry) {
      handshake(context);
      return;
    }
    stopPeek = peekClientHello(raw, (peeked) => {
      if (settled) return;
      if (peeked.kind === 'gone') return onError();
      const names = peeked.message ? ticketKeyNames(peeked.message) : [];
      const decide = () => {
        if (settled) return;
        const choice = TicketIssuers.choose(context, names);
        if ('context' in choice) return handshake(choice.context);
        stopPeek = registry.onSettled(decide);
      };
      decide();
    });
  });
}
