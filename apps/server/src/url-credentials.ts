import type { PairRepo, StoredLocation } from '@syncengine/db';
import type { SecretBox } from '@syncengine/secrets';

/** Where each location type keeps the URL field and the credentials it may hold. */
const URL_CREDENTIALS = {
  webdav: { url: 'url', user: 'username', secret: 'password' },
  s3: { url: 'endpoint', user: 'accessKeyId', secret: 'secretAccessKey' },
} as const;

/**
 * A stored location whose URL still holds `user:password@` (saved before URLs with
 * credentials were refused), with them moved where they belong: the user into its field,
 * the password encrypted into its secret field, the URL without them. Fields already set
 * are kept (they were given explicitly); a password the URL repeats is dropped. Null when
 * the location has nothing to move.
 */
export function moveUrlCredentials(
  stored: StoredLocation,
  secrets: Pick<SecretBox, 'sealValue'>,
): StoredLocation | null {
  const fields = URL_CREDENTIALS[stored.type as keyof typeof URL_CREDENTIALS];
  if (!fields) return null;
  const url = stored[fields.url];
  if (typeof url !== 'string') return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.username === '' && parsed.password === '') return null;
  const user = decodeURIComponent(parsed.username);
  const secret = decodeURIComponent(parsed.password);
  const moved: StoredLocation = {
    ...stored,
    // Only the user information goes: the rest of the URL stays exactly as it was written.
    [fields.url]: url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1'),
  };
  if (user !== '' && !stored[fields.user]) moved[fields.user] = user;
  if (secret !== '' && !stored[fields.secret])
    moved[fields.secret] = secrets.sealValue(fields.secret, secret);
  return moved;
}

/**
 * Moves the credentials of every stored pair whose WebDAV `url` or S3 `endpoint` still
 * holds them into the encrypted fields (run once at each start of the server; a pair with
 * nothing to move is left untouched). A pair whose password cannot be encrypted (no
 * `SYNCENGINE_SECRET_KEY`) is left as it is and reported. Returns how many pairs changed.
 */
export async function moveStoredUrlCredentials(deps: {
  pairs: Pick<PairRepo, 'list' | 'update'>;
  secrets: Pick<SecretBox, 'sealValue'>;
  log?: { warn(message: string): void; info?(message: string): void };
}): Promise<number> {
  let changed = 0;
  for (const pair of await deps.pairs.list()) {
    try {
      const source = moveUrlCredentials(pair.source, deps.secrets);
      const destination = moveUrlCredentials(pair.destination, deps.secrets);
      if (!source && !destination) continue;
      await deps.pairs.update(pair.id, {
        ...(source ? { source } : {}),
        ...(destination ? { destination } : {}),
      });
      changed += 1;
      deps.log?.info?.(`pair ${pair.id}: moved the credentials in its URL into its encrypted credentials`);
    } catch (error) {
      deps.log?.warn(
        `pair ${pair.id}: its URL holds credentials that could not be moved into the encrypted credentials: ${(error as Error).message}`,
      );
    }
  }
  return changed;
}
