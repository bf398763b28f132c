/**
 * The `wharf` command line: server commands here, client commands from
 * ./client. Errors the user can fix print one line and exit 2.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfigFile, checkConfigPaths } from '../config/load.js';
import { hashPassword } from '../auth/password.js';
import { registerClientCommands } from './client/index.js';
import { serve, type ServeOptions } from './serve.js';
import { generateSelfSigned } from './genCert.js';
import { generateHostKey } from './genHostKey.js';
import { loadHostKeys } from '../sftp/server.js';
import { TlsMaterial } from '../server/tls/material.js';

function parsePort(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return Number(text);
}

/** Reads one line from stdin, without echo on a terminal. */
async function readSecretLine(prompt: string): Promise<string> {
  const tty = process.stdin.isTTY;
  if (tty) process.stderr.write(prompt);
  const rl = createInterface({ input: process.stdin, terminal: false });
  if (tty) process.stdin.setRawMode?.(false);
  return new Promise((resolve) => {
    let got = false;
    rl.once('line', (line) => {
      got = true;
      rl.close();
      resolve(line);
    });
    rl.once('close', () => {
      if (!got) resolve('');
    });
  });
}

/** The version in package.json (two levels above dist/src/cli). */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function buildProgram(setCode: (n: number) => void): Command {
  const program = new Command('wharf')
    .description('Wharf: an FTP/FTPS server and client')
    .version(packageVersion(), '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(`wharf: ${str.replace(/^error: /, '').trim()}\n`) });

  program
    .command('serve')
    .description('run the FTP server (default: anonymous, read-only, ./public on 127.0.0.1:2121)')
    .option('-c, --config <file>', 'TOML config file')
    .option('-p, --port <n>', 'control port (overrides server.port)', parsePort)
    .option('-H, --host <addr>', 'listen address (overrides server.host)')
    .option('-r, --root <dir>', 'anonymous root (default ./public)')
    .action(async (opts: ServeOptions) => setCode(await serve(opts)));

  program
    .command('hash-password')
    .description('read a password from stdin, print a hash for [[users]] password')
    .action(async () => {
      const password = await readSecretLine('Password: ');
      if (password === '') throw new ConfigError(['hash-password: no password given on stdin']);
      process.stdout.write((await hashPassword(password)) + '\n');
      setCode(0);
    });

  program
    .command('check-config')
    .description('validate a config file')
    .requiredOption('-c, --config <file>', 'TOML config file')
    .action(async (opts: { config: string }) => {
      const config = await loadConfigFile(opts.config);
      const problems = await checkConfigPaths(config);
      if (problems.length === 0 && config.sftp) {
        await loadHostKeys(config.sftp.host_keys).catch((err: unknown) => {
          if (err instanceof ConfigError) problems.push(...err.problems);
          else throw err;
        });
      }
      if (problems.length === 0 && config.tls) {
        await TlsMaterial.load(config.tls.cert, config.tls.key).catch((err: unknown) => {
          if (err instanceof ConfigError) problems.push(...err.problems);
          else throw err;
        });
      }
      if (problems.length > 0) throw new ConfigError(problems.map((p) => `${opts.config}: ${p}`));
      process.stdout.write(`${opts.config}: OK\n`);
      setCode(0);
    });

  program
    .command('gen-cert')
    .description('write a self-signed cert.pem and key.pem for trying FTPS (not for production)')
    .requiredOption('-o, --out <dir>', 'directory to write cert.pem and key.pem into')
    .option('--hostname <name>', 'name to put in the certificate', 'localhost')
    .action(async (opts: { out: string; hostname: string }) => {
      const pair = await generateSelfSigned(opts.out, opts.hostname);
      process.stdout.write(`wrote ${pair.cert} and ${pair.key}\n`);
      process.stdout.write(`add to your config:\n[tls]\ncert = "${pair.cert}"\nkey = "${pair.key}"\n`);
      setCode(0);
    });

  program
    .command('gen-hostkey')
    .description('write an ed25519 SSH host key (OpenSSH format) for [sftp] host_keys')
    .requiredOption('-o, --out <file>', 'file to write the private key to (the public key goes to FILE.pub)')
    .action(async (opts: { out: string }) => {
      const k = await generateHostKey(opts.out);
      process.stdout.write(`wrote ${k.key} and ${k.pub}\n${k.line}\nadd to your config:\n[sftp]\nhost_keys = ["${k.key}"]\n`);
      setCode(0);
    });

  registerClientCommands(program);
  return program;
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  // The AWS SDK (s3:// storage) warns on stderr that its releases after January 2027 need Node 22;
  // the version Wharf pins supports Node 20, and the warning would break the one-line errors.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  let code = 0;
  const program = buildProgram((n) => (code = n));
  try {
    await program.parseAsync(argv);
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Client commands report their own failure (1 for a transfer or server
      // failure, 130 for Ctrl-C); commander's own errors are usage errors.
      if (err.code === 'wharf.client.failed') return err.exitCode;
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof ConfigError) {
      for (const p of err.problems) process.stderr.write(`wharf: ${p}\n`);
      return 2;
    }
    throw err;
  }
}
