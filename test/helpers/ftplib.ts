/**
 * Python's ftplib, driven by small stdlib-only scripts: the script gets `o`
 * (a JSON argument with at least `port`), fills `out`, which is printed
 * as JSON at exit, and the test asserts on it.
 */
import { describe, python } from './clients.js';

/** Shared prelude: `o` is the JSON argument, `out` is printed at exit. */
export const FTPLIB_PRELUDE = `
import ftplib, hashlib, io, json, sys, atexit
o = json.loads(sys.argv[1])
out = {}
atexit.register(lambda: print(json.dumps(out)))
def sha(b): return hashlib.sha256(b).hexdigest()
def fetch(ftp, cmd, rest=None):
    buf = io.BytesIO()
    ftp.retrbinary(cmd, buf.write, rest=rest)
    return buf.getvalue()
def attempt(fn):
    """'ok' (or fn's result) on success, else the server's reply text."""
    try:
        r = fn()
        return 'ok' if r is None else r
    except ftplib.all_errors as e:
        return str(e)
def connect(user='anonymous', passwd='guest@example.com'):
    ftp = ftplib.FTP()
    ftp.connect('127.0.0.1', o['port'], timeout=30)
    out['welcome'] = ftp.getwelcome()
    out['login'] = ftp.login(user, passwd)
    ftp.set_pasv(o.get('pasv', True))
    return ftp
`;

/** Runs `body` after the prelude with `args` as `o`; the `out` it printed. */
export async function ftplibScript(body: string, args: Record<string, unknown>, timeoutMs = 60_000): Promise<Record<string, unknown>> {
  const r = await python(FTPLIB_PRELUDE + body, [JSON.stringify(args)], { timeoutMs });
  if (r.code !== 0) throw new Error(`the script failed: ${describe(r)}`);
  const last = r.stdout.toString('utf8').trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as Record<string, unknown>;
  } catch {
    throw new Error(`no JSON from the script: ${describe(r)}`);
  }
}
