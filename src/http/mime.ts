/**
 * What a file is to a browser: its Content-Type from a small built-in
 * table of extensions (application/octet-stream for anything else), and a
 * Content-Disposition (RFC 6266, with RFC 8187's UTF-8 `filename*`) for
 * names a plain header could not carry.
 */

const TEXT = 'text/plain; charset=utf-8';

/** Extensions (lower case, without the dot) to media types. */
const TYPES: Record<string, string> = {
  txt: TEXT,
  text: TEXT,
  log: TEXT,
  md: TEXT,
  asc: TEXT,
  sha1: TEXT,
  sha256: TEXT,
  sha512: TEXT,
  md5: TEXT,
  sum: TEXT,
  diff: TEXT,
  patch: TEXT,
  csv: 'text/csv; charset=utf-8',
  html: 'text/html; charset=utf-8',
  htm: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  json: 'application/json',
  xml: 'application/xml',
  pdf: 'application/pdf',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  svg: 'image/svg+xml',
  ico: 'image/vnd.microsoft.icon',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  flac: 'audio/flac',
  wav: 'audio/wav',
  mp4: 'video/mp4',
  webm: 'video/webm',
  zip: 'application/zip',
  gz: 'application/gzip',
  tgz: 'application/gzip',
  bz2: 'application/x-bzip2',
  xz: 'application/x-xz',
  zst: 'application/zstd',
  tar: 'application/x-tar',
  '7z': 'application/x-7z-compressed',
  iso: 'application/x-iso9660-image',
  deb: 'application/vnd.debian.binary-package',
  rpm: 'application/x-rpm',
  sig: 'application/pgp-signature',
  wasm: 'application/wasm',
};

/** Names without an extension that archives use for plain text. */
const TEXT_NAMES = new Set(['readme', 'license', 'copying', 'changes', 'changelog', 'news', 'install', 'authors', 'todo', '.message']);

/** The Content-Type for a file name. */
export function contentType(name: string): string {
  const lower = name.toLowerCase();
  if (TEXT_NAMES.has(lower)) return TEXT;
  const dot = lower.lastIndexOf('.');
  if (dot <= 0) return 'application/octet-stream';
  return TYPES[lower.slice(dot + 1)] ?? 'application/octet-stream';
}

/** True when browsers show this type themselves rather than save it. */
function displayable(type: string): boolean {
  return /^(text|image|audio|video)\//.test(type) || type === 'application/pdf' || type === 'application/json';
}

/** RFC 8187 `attr-char`s pass; every other byte of the UTF-8 name is percent-encoded. */
function extValue(name: string): string {
  let out = '';
  for (const byte of Buffer.from(name, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9!#$&+\-.^_`|~]/.test(c) ? c : '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/**
 * The Content-Disposition for a file, or null when the URL's last segment
 * says it all (plain ASCII names). Others get an ASCII `filename` fallback
 * and the exact name in `filename*`; displayable types stay `inline`.
 */
export function contentDisposition(name: string, type: string): string | null {
  if (/^[A-Za-z0-9._+-]+$/.test(name)) return null;
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const kind = displayable(type) ? 'inline' : 'attachment';
  return `${kind}; filename="${fallback}"; filename*=UTF-8''${extValue(name)}`;
}
