/**
 * The TOML configuration (see CONTRACT.md), as a zod schema with defaults.
 * Unknown keys are errors, so a typo never silently does nothing.
 */
import { z } from 'zod';
import { isStorageObject, storageProblem, type StorageSpec } from './storage.js';
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

const serverSchema = z
  .strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    port: port.default(2121),
    passive_ports: z
      .tuple([port.min(1), port.min(1)])
      .refine(([a, b]) => a <= b, 'the first port must not be above the second')
      .optional(),
    passive_address: z.ipv4().optional(),
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
  })
  .prefault({});

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
  })
  .superRefine((c, ctx) => {
    if (c.http && !c.anonymous?.enabled) ctx.addIssue({ code: 'custom', path: ['http'], message: 'the web view serves the anonymous root: it needs [anonymous] enabled' });
    if (c.http?.tls && !c.tls) ctx.addIssue({ code: 'custom', path: ['http', 'tls'], message: "HTTPS uses [tls]'s certificate: add a [tls] section with cert and key" });
    if (c.admin?.tls && !c.tls) ctx.addIssue({ code: 'custom', path: ['admin', 'tls'], message: "HTTPS uses [tls]'s certificate: add a [tls] section with cert and key" });
    const names = new Set<string>();
    c.users.forEach((u, i) => {
      if (names.has(u.name)) ctx.addIssue({ code: 'custom', path: ['users', i, 'name'], message: `duplicate user "${u.name}"` });
      names.add(u.name);
    });
  });

/** The parsed config, before paths are resolved. */
export type RawConfig = z.infer<typeof configSchema>;
