/**
 * Running the real FileZilla (Debian `filezilla`, under `xvfb-run`) against
 * a test server without touching its GUI: a throw-away HOME holds a site
 * (plain FTP, passive), the "allow insecure FTP" answer for it and a log
 * file; `filezilla -c 0/wharf` connects, logs in and lists the home
 * directory with PASV + MLSD on its own.
 *
 * {@link LateDataProxy} sits on the control connection and rewrites the
 * 227/229 replies so that FileZilla's data connection goes through a relay
 * that connects to the server only once the server waits for it: FileZilla's
 * own race (command and connection at once) forced to "command first".
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { watch } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { waitForDataChannel } from './dataOrder.js';
import { within } from './tls.js';

/** Writes FileZilla's configuration for one site into `home`; returns the log file's path. */
export async function fileZillaHome(home: string, port: number, user: string, pass: string): Promise<string> {
  const dir = join(home, '.config', 'filezilla');
  await mkdir(dir, { recursive: true });
  const log = join(home, 'filezilla.log');
  const head = '<?xml version="1.0" encoding="UTF-8"?>\n<FileZilla3 version="3.63.0" platform="*nix">';
  const settings = [
    ['Logging file', log],
    ['Logging Debug Level', '3'],
    ['Greeting version', '3.63.0'],
    ['Use Pasv mode', '1'],
  ];
  const xml = settings.map(([k, v]) => `<Setting name="${k}">${v}</Setting>`).join('');
  await writeFile(join(dir, 'filezilla.xml'), `${head}<Settings>${xml}</Settings></FileZilla3>\n`);
  // Protocol 6: "only use plain FTP (insecure)"; Logontype 1: normal.
  const server = [
    `<Host>127.0.0.1</Host><Port>${port}</Port><Protocol>6</Protocol><Type>0</Type>`,
    `<User>${user}</User><Pass encoding="base64">${Buffer.from(pass).toString('base64')}</Pass><Logontype>1</Logontype>`,
    '<PasvMode>MODE_PASSIVE</PasvMode><EncodingType>Auto</EncodingType><BypassProxy>0</BypassProxy><Name>wharf</Name>',
  ].join('');
  await writeFile(join(dir, 'sitemanager.xml'), `${head}<Servers><Server>${server}</Server></Servers></FileZilla3>\n`);
  // The answer to "Insecure FTP connection: always allow for this server".
  await writeFile(join(dir, 'trustedcerts.xml'), `${head}<InsecureHosts><Host Port="${port}">127.0.0.1</Host></InsecureHosts></FileZilla3>\n`);
  return log;
}

/** A running FileZilla (with its own X server); `stop` ends the whole process group. */
export interface FileZillaRun {
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `filezilla -c 0/wharf` under `xvfb-run -a` with `home` as HOME. */
export function startFileZilla(home: string, localDir: string): FileZillaRun {
  const child = spawn('xvfb-run', ['-a', 'filezilla', '-a', localDir, '-c', '0/wharf'], {
    env: { ...process.env, HOME: home, LC_ALL: 'C.UTF-8', NO_AT_BRIDGE: '1' },
    stdio: 'ignore',
    detached: true,
  });
  const exited = once(child, 'exit').catch(() => undefined);
  child.on('error', () => undefined);
  return {
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      const group = -child.pid;
      process.kill(group, 'SIGTERM');
      try {
        await within(exited, 10_000, 'FileZilla to exit');
      } catch {
        process.kill(group, 'SIGKILL');
        await within(exited, 10_000, 'FileZilla to be killed');
      }
    },
  };
}

/**
 * Resolves with the log's text once `done` matches it (or `failed` does,
 * which rejects); waits on file-system events, bounded by `timeoutMs`.
 */
export async function waitForLog(log: string, done: RegExp, failed: RegExp, timeoutMs = 30_000): Promise<string> {
  const dir = join(log, '..');
  const watcher = watch(dir);
  watcher.on('error', () => undefined);
  try {
    return await within(
      new Promise<string>((resolve, reject) => {
        const check = () => {
          readFile(log, 'utf8').then(
            (text) => {
              if (done.test(text)) resolve(text);
              else if (failed.test(text)) reject(new Error(`FileZilla failed:\n${text}`));
            },
            () => undefined,
          );
        };
        watcher.on('change', check);
        check();
      }),
      timeoutMs,
      `FileZilla's log to match ${done}`,
    );
  } finally {
    watcher.close();
  }
}

/**
 * A control-connection proxy that forces "command first": each passive
 * reply is rewritten to a relay port; the relay takes FileZilla's data
 * connection at once but connects it to the server only after the server's
 * data channel reports `waiting` (the transfer command is being processed).
 */
export class LateDataProxy {
  readonly server = net.createServer((client) => this.control(client));
  /** Data connections relayed, each only after the server waited for it. */
  relayed = 0;
  private readonly open = new Set<{ destroy(): void }>();

  constructor(private readonly target: number) {}

  /** Listens on an ephemeral loopback port; returns it. */
  async listen(): Promise<number> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return (this.server.address() as net.AddressInfo).port;
  }

  private control(client: net.Socket): void {
    const upstream = net.connect({ port: this.target, host: '127.0.0.1' });
    this.track(client, upstream);
    client.pipe(upstream);
    let pending = '';
    upstream.setEncoding('latin1');
    upstream.on('data', (text: string) => {
      pending += text;
      const end = pending.lastIndexOf('\r\n') + 2;
      if (end < 2) return;
      const lines = pending.slice(0, end);
      pending = pending.slice(end);
      void this.rewrite(lines).then((out) => client.write(out, 'latin1'));
    });
    upstream.on('end', () => client.end());
  }

  /** Rewrites 227 and 229 replies to a relay; other text passes unchanged (in order). */
  private chain: Promise<unknown> = Promise.resolve();
  private rewrite(lines: string): Promise<string> {
    const next = this.chain.then(async () => {
      const pasv = /^227 .*\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/m.exec(lines);
      const epsv = /^229 .*\(\|\|\|(\d+)\|\)/m.exec(lines);
      if (pasv) {
        const relay = await this.relay(Number(pasv[5]) * 256 + Number(pasv[6]));
        return lines.replace(/\(\d+,\d+,\d+,\d+,\d+,\d+\)/, `(127,0,0,1,${relay >> 8},${relay & 255})`);
      }
      if (epsv) return lines.replace(/\(\|\|\|\d+\|\)/, `(|||${await this.relay(Number(epsv[1]))}|)`);
      return lines;
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** A one-connection relay to the server's data port `port`. */
  private async relay(port: number): Promise<number> {
    const waiting = waitForDataChannel('waiting', port);
    const relay = net.createServer((client) => {
      relay.close();
      client.pause();
      void waiting.then(
        () => {
          const upstream = net.connect({ port, host: '127.0.0.1' });
          this.track(client, upstream);
          upstream.once('connect', () => this.relayed++);
          client.pipe(upstream);
          upstream.pipe(client);
          client.resume();
        },
        () => client.destroy(),
      );
    });
    this.open.add({ destroy: () => relay.close() });
    relay.listen(0, '127.0.0.1');
    await once(relay, 'listening');
    return (relay.address() as net.AddressInfo).port;
  }

  private track(...sockets: net.Socket[]): void {
    for (const s of sockets) {
      s.on('error', () => undefined);
      this.open.add(s);
      s.once('close', () => this.open.delete(s));
    }
  }

  /** Closes everything. */
  close(): void {
    this.server.close();
    for (const s of this.open) s.destroy();
  }
}
