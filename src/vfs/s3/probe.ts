/**
 * The start-up check of an S3 root: one ListObjectsV2 of at most one key
 * under the prefix (the permission the backend needs anyway), and, when it
 * fails, one line for the operator saying why: the endpoint cannot be
 * reached, the credentials are missing or refused, the bucket does not
 * exist, access is denied. The line names the bucket (the operator's own
 * setting) but never a credential.
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { errorName, httpStatus } from './client.js';
import type { S3Location } from './location.js';

const NETWORK = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'TimeoutError', 'EPROTO', 'CERT_HAS_EXPIRED']);
const CREDENTIALS = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken']);

/** Why a probe failed, as one line (without the setting name). */
export function describeProbeFailure(err: unknown, location: S3Location): string {
  const name = errorName(err);
  const status = httpStatus(err);
  const bucket = `bucket "${location.bucket}"`;
  if (name === 'CredentialsProviderError' || /credential/i.test(name)) {
    return 'no S3 credentials found: set access_key_id and secret_access_key in [storage.s3], or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY';
  }
  if (NETWORK.has(name) || (status === 0 && /^E[A-Z_]+$/.test(name))) return `cannot reach the S3 endpoint (${name}): check storage.s3.endpoint`;
  if (name === 'NoSuchBucket') return `${bucket} does not exist`;
  if (CREDENTIALS.has(name)) return `the S3 credentials were refused (${name}): check access_key_id and secret_access_key`;
  if (name === 'AccessDenied' || status === 403) return `access to ${bucket} is denied to these credentials`;
  if (name === 'PermanentRedirect' || name === 'AuthorizationHeaderMalformed' || status === 301) return `${bucket} is in another region: check storage.s3.region`;
  if (status === 404) return `${bucket} was not found at this endpoint (is it an S3 service? force_path_style?)`;
  return `the S3 service refused the bucket check (${name}${status ? `, HTTP ${status}` : ''})`;
}

/** Checks that the bucket answers a listing under the prefix; resolves null, or why not. */
export async function probeBucket(client: S3Client, location: S3Location): Promise<string | null> {
  try {
    await client.send(new ListObjectsV2Command({ Bucket: location.bucket, Prefix: location.prefix, MaxKeys: 1 }));
    return null;
  } catch (err) {
    return describeProbeFailure(err, location);
  }
}
