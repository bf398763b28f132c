/**
 * The TOML configuration (see CONTRACT.md), as a zod schema with defaults.
 * Unknown keys are errors, so a typo never silently does nothing.
 */
import { z } from 'zod';
import { isStorageObject, storageProblem, storageScheme, type StorageSpec } from './storage.js';
import { parseHours, validTimeZone } from './hours.js';
import { hookSchema } from './hooks.js';

/** A root or home: a directory, a storage URL, or (from the library) a Vfs object. */
const storage = z.union([
  z
    .string()
    .min(1)
    .superRefine((s, ctx) => {
      const problem = storageProblem(s);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  z.custom<StorageSpec>(isStorageObject, 'must be a path, a storage URL or a Vfs object'),
]);

const port = z.number().int().min(0).max(65535);
const seconds = z.number().int().min(1).max(86400);

/** The permissions a user may be given. */
export const PERMISSIONS = ['list', 'read', 'write', 'append', 'delete', 'mkdir', 'rmdir', 'rename'] as const;

/** One permission. */
export type Permission = (typeof PERMISSIONS)[number];

const WORKERS = 'must be a whole number from 1 to 64, or "auto" (one per core)';

const serverSchema = z
  .strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    port: port.default(2121),
    passive_ports: z
      .tuple([port.min(1), port.min(1)])
      .refine(([a, b]) => a <= b, 'the first port must not be above the second')
      .optional(),
    passive_address: z.ipv4().optional(),
    /** IPv4 network → the address PASV announces to clients in it (longest prefix wins); see server/data/announce.ts. */
    passive_addresses: z
      .record(z.string(), z.ipv4())
      .superRefine((map, ctx) => {
        for (const key of Object.keys(map)) {
          if (!isIPv4Network(key)) ctx.addIssue({ code: 'custom', path: [key], message: 'must be an IPv4 address or network such as "10.0.0.0/8"' });
        }
      })
      .default({}),
    max_connections: z.number().int().min(1).default(1000),
    max_connections_per_ip: z.number().int().min(1).default(20),
    idle_timeout: seconds.default(300),
    data_timeout: seconds.default(60),
    login_timeout: seconds.default(30),
    max_login_failures: z.number().int().min(1).default(3),
    banner: z.string().default('Wharf FTP server ready.'),
    allow_foreign_data_address: z.boolean().default(false),
    login_failure_delay: z.number().min(0).max(10).default(0.5),
    ban_threshold: z.number().int().min(1).default(10),
    ban_time: z
      .number()
      .int()
      .min(1)
      .max(7 * 86400)
      .default(600),
    shutdown_grace: z.number().min(0).max(600).default(5),
    proxy_protocol: z.boolean().default(false),
    trusted_proxies: z.array(z.string().refine(isAddressOrNetwork, 'must be an IP address or a network such as "10.0.0.0/8"')).default(['127.0.0.1/32']),
    node: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1 to 64 letters, digits, dots, dashes or underscores')
      .optional(),
    workers: z.union([z.number().int(WORKERS).min(1, WORKERS).max(64, WORKERS), z.literal('auto')], { error: WORKERS }).default(1),
  })
  .superRefine((s, ctx) => {
    // Each worker owns a share of the passive range: it needs at least one port each ("auto" is checked at start).
    const ports = s.passive_ports ? s.passive_ports[1] - s.passive_ports[0] + 1 : Infinity;
    if (typeof s.workers === 'number' && ports < s.workers) {
      ctx.addIssue({ code: 'custom', path: ['passive_ports'], message: `${ports} port(s) cannot be split between ${s.workers} workers; give each worker at least one` });
    }
  })
  .prefault({});

/** True for an IPv4 address, optionally with a /prefix length (0-32). */
function isIPv4Network(text: string): boolean {
  return isAddressOrNetwork(text) && z.ipv4().safeParse(text.split('/')[0]).success;
}

/** True for an IPv4 or IPv6 address, optionally with a /prefix length that fits it. */
function isAddressOrNetwork(text: string): boolean {
  const [address = '', prefix, extra] = text.split('/');
  if (extra !== undefined) return false;
  const v4 = z.ipv4().safeParse(address).success;
  if (!v4 && !z.ipv6().safeParse(address).success) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (v4 ? 32 : 128));
}

/** True when a Redis URL parses and its path is empty or a database number. */
function redisPathOk(url: string): boolean {
  try {
    return /^\/?\d*$/.test(new URL(url).pathname);
  } catch {
    return false;
  }
}

const stateSchema = z
  .strictObject({
    redis: z
      .url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' })
      .refine(redisPathOk, 'must be redis://[user:password@]host[:port][/database number], e.g. redis://127.0.0.1:6379/0'),
    on_failure: z.enum(['open', 'closed']).default('open'),
    key_prefix: z.string().max(64).default('wharf:'),
    lease_time: z.number().int().min(2).max(300).default(15),
  })
  .optional();

const tlsSchema = z
  .strictObject({
    cert: z.string().min(1),
    key: z.string().min(1),
    implicit_port: port.optional(),
    require: z.enum(['none', 'users', 'all']).default('none'),
    require_session_reuse: z.boolean().default(true),
  })
  .optional();

const anonymousSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    root: storage.default('./public'),
    upload_dir: z
      .string()
      .min(1)
      .refine((s) => !s.split(/[\\/]/).includes('..'), 'must stay inside root')
      .optional(),
    max_connections: z.number().int().min(1).default(50),
    require_email: z.boolean().default(false),
    max_rate: z.number().int().min(0).default(0),
    hours: z
      .string()
      .refine((h) => parseHours(h) !== null, 'must be HH:MM-HH:MM, e.g. "18:00-08:00"')
      .optional(),
    timezone: z.string().refine(validTimeZone, 'must be a time zone such as "UTC" or "Europe/Paris"').default('UTC'),
  })
  .optional();

const userSchema = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[^\s:]+$/, 'must not contain spaces or colons')
    .refine((n) => !['anonymous', 'ftp'].includes(n.toLowerCase()), 'is reserved for anonymous access'),
  password: z.string().regex(/^\$(scrypt)\$/, 'must be a hash from `wharf hash-password`'),
  home: storage,
  permissions: z.array(z.enum(['*', ...PERMISSIONS])).default(['*']),
  max_rate: z.number().int().min(0).default(0),
  keep_partial_uploads: z.boolean().default(false),
  authorized_keys: z
    .array(
      z
        .string()
        .regex(
          /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/=]+( .*)?$/,
          'must be an OpenSSH public key line (type, base64, optional comment)',
        ),
    )
    .default([]),
});

const sftpSchema = z
  .strictObject({
    port: port.default(2222),
    host: z.string().min(1).optional(),
    host_keys: z.array(z.string().min(1)).min(1, 'needs at least one host key (`wharf gen-hostkey --out FILE` writes one)'),
    anonymous: z.boolean().default(false),
  })
  .optional();

const httpSchema = z
  .strictObject({
    port: port.default(8080),
    host: z.string().min(1).optional(),
    tls: z.boolean().default(false),
    /** Seconds a rendered directory page may be served again (0: never); see http/pageCache.ts. */
    listing_cache: z.number().min(0).max(3600).default(2),
  })
  .optional();

const adminSchema = z
  .strictObject({
    port: port.default(9090),
    host: z.string().min(1).default('127.0.0.1'),
    token: z.string().regex(/^\$(scrypt)\$/, 'must be a hash from `wharf hash-password` (requests carry the password as a Bearer token)'),
    metrics_public: z.boolean().default(false),
    tls: z.boolean().default(false),
  })
  .optional();

const logSchema = z
  .strictObject({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    transfer_log: z.string().min(1).optional(),
  })
  .prefault({});

const MiB = 1024 * 1024;

/** `[storage.s3]`: how to reach the object store that `s3://` roots and homes live in. */
const s3Schema = z
  .strictObject({
    endpoint: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL (absent: AWS)' }).optional(),
    region: z.string().min(1).default('us-east-1'),
    force_path_style: z.boolean().default(false),
    access_key_id: z.string().min(1).optional(),
    secret_access_key: z.string().min(1).optional(),
    part_size: z
      .number()
      .int()
      .min(5 * MiB, 'must be at least 5242880 (5 MiB): S3 refuses smaller parts')
      .max(5 * 1024 * MiB)
      .default(8 * MiB),
    upload_concurrency: z.number().int().min(1).max(64).default(4),
  })
  .refine((s) => (s.access_key_id === undefined) === (s.secret_access_key === undefined), {
    path: ['access_key_id'],
    message: 'access_key_id and secret_access_key go together (or leave both out to use the AWS environment variables and profiles)',
  });

const storageSchema = z.strictObject({ s3: s3Schema.optional() }).optional();

/** An `s3://` root or home without a `[storage.s3]` section: one issue each. */
function checkS3Roots(c: { anonymous?: { enabled: boolean; root: unknown }; users: { home: unknown }[]; storage?: { s3?: unknown } }, ctx: z.RefinementCtx): void {
  if (c.storage?.s3) return;
  const check = (spec: unknown, path: (string | number)[]) => {
    if (typeof spec === 'string' && storageScheme(spec) === 's3' && storageProblem(spec) === null) {
      ctx.addIssue({ code: 'custom', path, message: 's3:// storage needs the [storage.s3] section (endpoint, region, credentials)' });
    }
  };
  if (c.anonymous?.enabled) check(c.anonymous.root, ['anonymous', 'root']);
  c.users.forEach((u, i) => check(u.home, ['users', i, 'home']));
}

/** The whole file. */
export const configSchema = z
  .strictObject({
    server: serverSchema,
    tls: tlsSchema,
    anonymous: anonymousSchema,
    users: z.array(userSchema).default([]),
    sftp: sftpSchema,
    http: httpSchema,
    admin: adminSchema,
    hooks: z.array(hookSchema).default([]),
    log: logSchema,
    storage: storageSchema,
    state: stateSchema,
  })
  .superRefine((c, ctx) => {
    if (c.http && !c.anonymous?.enabled) ctx.addIssue({ code: 'custom', path: ['http'], message: 'the web view serves the anonymous root: it needs [anonymous] enabled' });
    if (c.http?.tls && !c.tls) ctx.addIssue({ code: 'custom', path: ['http', 'tls'], message: "HTTPS uses [tls]'s certificate: add a [tls] section with cert and key" });
    if (c.admin?.tls && !c.tls) ctx.addIssue({ code: 'custom', path: ['admin', 'tls'], message: "HTTPS uses [tls]'s certificate: add a [tls] section with cert and key" });
    checkS3Roots(c, ctx);
    const names = new Set<string>();
    c.users.forEach((u, i) => {
      if (names.has(u.name)) ctx.addIssue({ code: 'custom', path: ['users', i, 'name'], message: `duplicate user "${u.name}"` });
      names.add(u.name);
    });
  });

/** The parsed config, before paths are resolved. */
export type RawConfig = z.infer<typeof configSchema>;
