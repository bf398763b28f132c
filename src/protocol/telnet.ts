/**
 * The Telnet layer of the FTP control connection (RFC 959 section 4.1.3,
 * RFC 854): the command stream is Telnet NVT text, so a server must take
 * Telnet commands out of it before it reads command lines.
 *
 * What is removed, byte by byte (nothing else is touched, so UTF-8 text,
 * whose bytes go up to 0xF4 but never reach 0xFF, passes unchanged):
 *
 * - IAC IAC is one literal 0xFF text byte.
 * - IAC WILL/WONT/DO/DONT <option>: option negotiation, dropped (a server
 *   that answers nothing refuses every option, as RFC 854 allows).
 * - IAC SB ... IAC SE: a subnegotiation, dropped whole.
 * - IAC <any other command, 240-249>: IP, DM, AYT, AO, BRK, NOP, ... dropped.
 * - IAC <a byte below 240>: not a command. The IAC is dropped and the byte
 *   kept: a client that sends "IAC DM" as TCP urgent data (4.3BSD style)
 *   loses the DM, the urgent byte, and leaves "IAC IP IAC ABOR".
 * - The lone Data Mark. BSD-derived clients (inetutils, netkit, tnftp, the
 *   BSDs' ftp) abort with send("IAC IP IAC", MSG_OOB) then "DM ABOR\r\n":
 *   the urgent byte is their second IAC, and a Linux socket without
 *   SO_OOBINLINE takes it out of the stream, so the server reads
 *   "IAC IP" <0xF2> "ABOR". Rule: a 0xF2 that comes after a Telnet command
 *   and before any text byte of the same line is that Data Mark and is
 *   dropped. No command line can begin with 0xF2 (a verb is letters), and
 *   a 0xF2 inside a UTF-8 name always follows the verb, so no text is lost.
 *
 * vsftpd, for comparison, turns on SO_OOBINLINE so the urgent IAC stays in
 * the stream, and recognises the literal "\377\364\377\362ABOR" besides
 * ABOR; it never meets a lone DM and does not strip one (a "\362ABOR" line
 * would be an unknown command there). Node cannot set SO_OOBINLINE, hence
 * the rule above.
 *
 * A line feed always ends the line, wherever it falls (see LineDecoder),
 * and the filter starts afresh on the next line.
 */

export const IAC = 0xff;
export const DONT = 0xfe;
export const DO = 0xfd;
export const WONT = 0xfc;
export const WILL = 0xfb;
export const SB = 0xfa;
export const IP = 0xf4;
export const DM = 0xf2;
export const SE = 0xf0;

// Where the filter is inside a Telnet sequence.
/** Plain text. */
const TEXT = 0;
/** After an IAC. */
const COMMAND = 1;
/** After IAC WILL/WONT/DO/DONT: the option byte comes next. */
const OPTION = 2;
/** Inside IAC SB ... IAC SE. */
const SUBNEGOTIATION = 3;
/** An IAC inside a subnegotiation: SE ends it. */
const SUBNEGOTIATION_IAC = 4;

/** Stateful per-line Telnet filter; one per control connection. */
export class TelnetFilter {
  private phase = TEXT;
  /** A Telnet command came before any text byte of this line: a lone DM may follow. */
  private synch = false;
  /** The line has had a text byte. */
  private text = false;

  /** Takes one byte (never a line feed); returns it as text, or -1 when it belongs to Telnet. */
  byte(b: number): number {
    const phase = this.phase;
    if (phase === TEXT) {
      if (b === IAC) {
        this.phase = COMMAND;
        return -1;
      }
      if (b === DM && this.synch && !this.text) {
        this.synch = false;
        return -1;
      }
      return this.keep(b);
    }
    if (phase === COMMAND) return this.command(b);
    if (phase === OPTION) this.phase = TEXT;
    else if (phase === SUBNEGOTIATION) {
      if (b === IAC) this.phase = SUBNEGOTIATION_IAC;
    } else this.phase = b === SE ? TEXT : SUBNEGOTIATION;
    return -1;
  }

  /** The line ended: the next byte starts a new line. */
  reset(): void {
    this.phase = TEXT;
    this.synch = false;
    this.text = false;
  }

  /** The byte after an IAC. */
  private command(b: number): number {
    this.phase = TEXT;
    if (b === IAC) return this.keep(IAC);
    if (b >= WILL) {
      this.phase = OPTION;
      return -1;
    }
    if (b === SB) {
      this.phase = SUBNEGOTIATION;
      return -1;
    }
    if (b >= SE) {
      if (!this.text) this.synch = true;
      return -1;
    }
    return this.keep(b);
  }

  private keep(b: number): number {
    this.text = true;
    this.synch = false;
    return b;
  }
}
