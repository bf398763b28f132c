/**
 * The S3 client of the backend and how its failures become VfsErrors.
 * One S3Client per backend: path-style or virtual-host addressing, the
 * SDK's standard retry strategy (throttling, 5xx and timeouts retried
 * with exponential back-off up to `maxAttempts`), bounded connection and
 * response-header timeouts, and checksums only where S3 requires them (so
 * S3-compatible servers without the newer checksum headers work).
 * Credentials come from the settings or, when absent, from the SDK's
 * default chain (AWS_* environment variables, shared profiles, SSO,
 * container and instance roles). No message made here names an endpoint,
 * a bucket, a key or a credential.
 */
import { S3Client, S3ServiceException, type S3ClientConfig } from '@aws-sdk/client-s3';
import { VfsError, type VfsErrorCode } from '../errors.js';

/** How to reach the object store (the `[storage.s3]` section). */
export interface S3Settings {
  /** `http(s)://host:port` of an S3-compatible service; absent: AWS. */
  endpoint?: string;
  /** Region for signing (default `us-east-1`). */
  region?: string;
  /** Path-style addressing (`endpoint/bucket/key`), which most S3-compatible servers need. */
  forcePathStyle?: boolean;
  /** Static credentials; absent: the SDK's default chain. */
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  /** Attempts per request, retries included (default 4). */
  maxAttempts?: number;
  /** Milliseconds to connect (default 10 s) and to get a response's headers (default 60 s). */
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
}

/** Builds the S3Client for the settings. */
export function makeClient(settings: S3Settings): S3Client {
  const config: S3ClientConfig = {
    region: settings.region ?? 'us-east-1',
    forcePathStyle: settings.forcePathStyle ?? false,
    maxAttempts: settings.maxAttempts ?? 4,
    retryMode: 'standard',
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      connectionTimeout: settings.connectTimeoutMs ?? 10_000,
      requestTimeout: settings.requestTimeoutMs ?? 60_000,
      throwOnRequestTimeout: true,
    },
  };
  if (settings.endpoint) config.endpoint = settings.endpoint;
  if (settings.accessKeyId && settings.secretAccessKey) {
    config.credentials = { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey, sessionToken: settings.sessionToken };
  }
  return new S3Client(config);
}

/** The S3 error name (`NoSuchKey`, `AccessDenied`...) or Node error code of a failure. */
export function errorName(err: unknown): string {
  if (err instanceof S3ServiceException) return err.name;
  const e = err as { name?: unknown; code?: unknown } | null;
  if (typeof e?.code === 'string') return e.code;
  return typeof e?.name === 'string' ? e.name : 'Error';
}

/** The HTTP status of an S3 failure (0 when there was no response). */
export function httpStatus(err: unknown): number {
  const meta = (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata;
  return meta?.httpStatusCode ?? 0;
}

/** True for "this key does not exist" (GET's NoSuchKey, HEAD's bare 404). */
export function isNotFound(err: unknown): boolean {
  const name = errorName(err);
  return name === 'NoSuchKey' || name === 'NotFound' || (httpStatus(err) === 404 && name !== 'NoSuchBucket' && name !== 'NoSuchUpload');
}

const DENIED = new Set([
  'AccessDenied',
  'AllAccessDisabled',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'AccountProblem',
  'InvalidObjectState',
]);
const NO_SPACE = new Set(['EntityTooLarge', 'QuotaExceeded', 'XMinioStorageFull', 'InsufficientStorage', 'TooManyParts']);

/** The VfsError code for an S3 failure. */
export function codeOf(err: unknown): VfsErrorCode {
  if (err instanceof VfsError) return err.code;
  const name = errorName(err);
  if (isNotFound(err)) return 'not-found';
  if (DENIED.has(name) || httpStatus(err) === 403) return 'denied';
  if (NO_SPACE.has(name) || httpStatus(err) === 507) return 'no-space';
  if (name === 'InvalidRange' || httpStatus(err) === 416) return 'bad-offset';
  return 'io';
}

const MESSAGES: Record<VfsErrorCode, string> = {
  'not-found': 'no such file or directory',
  exists: 'already exists',
  'not-dir': 'not a directory',
  'is-dir': 'is a directory',
  'not-empty': 'directory not empty',
  denied: 'the storage refused access',
  'no-space': 'the storage is full or the file is too large',
  'bad-offset': 'offset beyond the end of the file',
  unsupported: 'not supported by this storage',
  io: 'the storage failed to answer; try again later',
};

/** Maps any failure to a VfsError with a safe, fixed message (the original is kept as `cause`, for logs). */
export function toVfsError(err: unknown): VfsError {
  if (err instanceof VfsError) return err;
  const code = codeOf(err);
  return new VfsError(code, MESSAGES[code], err);
}

/** Runs an S3 operation; every failure becomes a VfsError. */
export async function guard<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw toVfsError(err);
  }
}

/** Runs an S3 operation; "not found" resolves null, other failures become VfsErrors. */
export async function orNull<T>(op: () => Promise<T>): Promise<T | null> {
  try {
    return await op();
  } catch (err) {
    if (isNotFound(err)) return null;
    throw toVfsError(err);
  }
}
