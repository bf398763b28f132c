/**
 * The path jail, part one: turning a client's path argument into a virtual
 * absolute path. Pure string work; it cannot escape `/` by construction.
 * Symlinks are the backend's part (see local/).
 */

/** Why a path was refused. */
export class BadPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadPathError';
  }
}

/**
 * Resolves `arg` against the virtual directory `cwd`. Backslashes count as
 * separators, `.` and empty segments vanish, `..` never climbs above `/`.
 * NUL bytes and other control characters are refused.
 */
export function resolveVirtualPath(cwd: string, arg: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(arg)) throw new BadPathError('control characters are not allowed in file names');
  const text = arg.replace(/\\/g, '/');
  const start = text.startsWith('/') ? [] : cwd.split('/');
  const out: string[] = [];
  for (const seg of [...start, ...text.split('/')]) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return '/' + out.join('/');
}

/** The parent directory of a virtual path (`/` for `/`). */
export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** The last segment of a virtual path (`''` for `/`). */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Joins a virtual directory and a plain name. */
export function joinPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/** True when `path` is `dir` itself or below it. */
export function isWithin(path: string, dir: string): boolean {
  if (dir === '/') return true;
  return path === dir || path.startsWith(dir + '/');
}
