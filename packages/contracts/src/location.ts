/**
 * Locations: a storage backend plus a root inside it. These typed configs are what the API
 * accepts, what the server stores (secret fields encrypted at rest) and what the worker
 * opens. The CLI's URL syntax (`sftp://…`, `s3://…`) parses into the same shapes.
 */
import { z } from 'zod';
import { isAbsoluteLocationPath } from './location-info.js';

const absolutePath = z.string().min(1).refine(isAbsoluteLocationPath, {
  message: 'must be an absolute path',
});

/** True when a URL names a user or a password (`https://user:secret@host/`). */
const hasCredentials = (url: string): boolean => {
  try {
    const parsed = new URL(url);
    return parsed.username !== '' || parsed.password !== '';
  } catch {
    return false;
  }
};

export const LocalLocationSchema = z.object({
  type: z.literal('local'),
  /** Absolute path of the folder. */
  path: absolutePath,
});
export type LocalLocation = z.infer<typeof LocalLocationSchema>;

export const SftpLocationSchema = z.object({
  type: z.literal('sftp'),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65_535).default(22),
  username: z.string().min(1),
  /** Secret. */
  password: z.string().optional(),
  /** Secret: the private key itself (OpenSSH or PEM text). */
  privateKey: z.string().optional(),
  /** Secret: the private key's passphrase. */
  passphrase: z.string().optional(),
  /** Path of a private key file on the machine that runs the sync (the CLI's `--sftp-key`). */
  privateKeyPath: z.string().optional(),
  /** Root folder on the server; absolute, or relative to the login folder. */
  path: z.string().default('/'),
  /**
   * The pinned host key: `ssh-ed25519 AAAA…` (as in known_hosts) or a `SHA256:…`
   * fingerprint. Without it the host is checked against a known_hosts file.
   */
  hostKey: z.string().optional(),
});
export type SftpLocation = z.infer<typeof SftpLocationSchema>;

export const S3LocationSchema = z.object({
  type: z.literal('s3'),
  bucket: z.string().min(1),
  /** Key prefix acting as the root, without leading or trailing `/`; empty for the whole bucket. */
  prefix: z.string().default(''),
  /** Endpoint of an S3-compatible service (`https://minio.example:9000`); AWS when absent. */
  endpoint: z
    .string()
    .url()
    .refine((url) => !hasCredentials(url), {
      message:
        'must not contain credentials: give them as accessKeyId and secretAccessKey (the secret is stored encrypted)',
    })
    .optional(),
  region: z.string().min(1).default('us-east-1'),
  /** Path-style addressing (`endpoint/bucket/key`), which most self-hosted services need. */
  forcePathStyle: z.boolean().default(false),
  accessKeyId: z.string().optional(),
  /** Secret. */
  secretAccessKey: z.string().optional(),
  /** Secret. */
  sessionToken: z.string().optional(),
});
export type S3Location = z.infer<typeof S3LocationSchema>;

export const WebdavLocationSchema = z.object({
  type: z.literal('webdav'),
  /** `http://` or `https://` URL of the root collection, without credentials. */
  url: z
    .string()
    .url()
    .refine((url) => /^https?:\/\//i.test(url), { message: 'must be an http:// or https:// URL' })
    .refine((url) => !hasCredentials(url), {
      message:
        'must not contain credentials: give them as username and password (the password is stored encrypted)',
    }),
  username: z.string().optional(),
  /** Secret. */
  password: z.string().optional(),
});
export type WebdavLocation = z.infer<typeof WebdavLocationSchema>;

export const LocationSchema = z.discriminatedUnion('type', [
  LocalLocationSchema,
  SftpLocationSchema,
  S3LocationSchema,
  WebdavLocationSchema,
]);
export type Location = z.infer<typeof LocationSchema>;
export type LocationType = Location['type'];
