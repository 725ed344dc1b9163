import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { type Location, LocationSchema, locationSecretFields } from '@syncengine/contracts';
import type { StoredLocation } from '@syncengine/db';

const PREFIX = 'enc:v1:';

/**
 * Encrypts the secret fields of location configs at rest (AES-256-GCM, a fresh IV per
 * value). The key is derived from `SYNCENGINE_SECRET_KEY` with SHA-256.
 */
export interface SecretBox {
  /**
   * The location as it is stored: every non-empty secret field encrypted (also one that
   * looks encrypted already, so a client cannot plant a stored value of its choosing).
   */
  seal(location: Location): StoredLocation;
  /** One secret value as it is stored (`field` names it in errors). */
  sealValue(field: string, value: string): string;
  /** The stored location decrypted and validated, ready to open. */
  open(stored: StoredLocation): Location;
}

/** Thrown when a location carries secrets but the server has no key to protect them. */
export class MissingSecretKeyError extends Error {
  override readonly name = 'MissingSecretKeyError';
}

export function createSecretBox(secretKey: string | undefined): SecretBox {
  const key = secretKey ? createHash('sha256').update(secretKey).digest() : null;
  const requireKey = (field: string): Buffer => {
    if (!key) {
      throw new MissingSecretKeyError(
        `storing the credential "${field}" needs SYNCENGINE_SECRET_KEY to be set (credentials are encrypted at rest)`,
      );
    }
    return key;
  };
  const sealValue = (field: string, value: string): string => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', requireKey(field), iv);
    const data = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    return `${PREFIX}${iv.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}.${data.toString('base64url')}`;
  };
  return {
    seal(location) {
      const stored: StoredLocation = { ...location };
      for (const field of locationSecretFields(location.type)) {
        const value = stored[field];
        if (typeof value !== 'string' || value === '') continue;
        stored[field] = sealValue(field, value);
      }
      return stored;
    },
    sealValue,
    open(stored) {
      const plain: Record<string, unknown> = { ...stored };
      for (const [field, value] of Object.entries(stored)) {
        if (typeof value !== 'string' || !value.startsWith(PREFIX)) continue;
        const [iv, tag, data] = value.slice(PREFIX.length).split('.');
        if (!iv || !tag || data === undefined)
          throw new Error(`the stored credential "${field}" is malformed`);
        const decipher = createDecipheriv('aes-256-gcm', requireKey(field), Buffer.from(iv, 'base64url'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        try {
          plain[field] = Buffer.concat([
            decipher.update(Buffer.from(data, 'base64url')),
            decipher.final(),
          ]).toString('utf8');
        } catch {
          throw new Error(
            `the stored credential "${field}" cannot be decrypted: SYNCENGINE_SECRET_KEY differs from the one it was saved with`,
          );
        }
      }
      return LocationSchema.parse(plain);
    },
  };
}
