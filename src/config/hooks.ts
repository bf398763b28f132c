/** The `[[hooks]]` tables: what runs, or is called, when something happens. */
import { z } from 'zod';

/** The events a hook may follow. */
export const HOOK_EVENTS = ['upload', 'download', 'login', 'login-failed', 'ban', 'delete', 'rename', 'mkdir'] as const;

/** One of them. */
export type HookEventName = (typeof HOOK_EVENTS)[number];

/** One `[[hooks]]` table. */
export const hookSchema = z
  .strictObject({
    event: z.enum(HOOK_EVENTS),
    command: z.array(z.string().min(1)).min(1, 'needs the program to run (an argv array; no shell)').optional(),
    url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
    /** Seconds one run may take (a URL hook: all its attempts) before it is stopped and counted as failed. */
    timeout: z.number().min(0.1).max(3600).default(30),
  })
  .refine((h) => (h.command === undefined) !== (h.url === undefined), 'needs exactly one of command or url');

/** A hook as configured. */
export type HookConfig = z.infer<typeof hookSchema>;
