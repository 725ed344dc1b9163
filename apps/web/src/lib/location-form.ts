import type { PairLocation } from '@syncengine/contracts';
import { locationSecretFields, PairLocationSchema } from '@syncengine/contracts';
import type { z } from 'zod';

/** One input of a location form, derived from the location's zod schema. */
export interface LocationField {
  key: string;
  kind: 'string' | 'number' | 'boolean';
  /** The schema rejects a missing value. */
  isRequired: boolean;
  /** Encrypted at rest by the server and never returned: a password input. */
  isSecret: boolean;
  /** What the schema fills in when the value is left out. */
  defaultValue: string | number | boolean | undefined;
  label: string;
}

/** A location type offered by the form and its inputs (without `type`). */
export interface LocationKind {
  type: PairLocation['type'];
  label: string;
  fields: LocationField[];
}

/** Form state of a location: every input as text (numbers too) or a checkbox. */
export type LocationValues = { type: string } & Record<string, string | boolean>;

const TYPE_LABELS: Record<string, string> = {
  local: 'Local folder',
  sftp: 'SFTP server',
  s3: 'S3 bucket',
  webdav: 'WebDAV server',
};

const FIELD_LABELS: Record<string, string> = {
  path: 'Path',
  host: 'Host',
  port: 'Port',
  username: 'User name',
  password: 'Password',
  privateKey: 'Private key',
  passphrase: 'Key passphrase',
  privateKeyPath: 'Private key file on the server',
  hostKey: 'Host key (known_hosts line or SHA256 fingerprint)',
  bucket: 'Bucket',
  prefix: 'Prefix',
  endpoint: 'Endpoint URL',
  region: 'Region',
  forcePathStyle: 'Path-style addressing',
  accessKeyId: 'Access key ID',
  secretAccessKey: 'Secret access key',
  sessionToken: 'Session token',
  url: 'URL',
};

interface ZodDefLike {
  type: string;
  innerType?: z.ZodType;
}

function defOf(schema: z.ZodType): ZodDefLike {
  return (schema as unknown as { _zod: { def: ZodDefLike } })._zod.def;
}

function baseKind(schema: z.ZodType): LocationField['kind'] | null {
  let current: z.ZodType | undefined = schema;
  while (current) {
    const def = defOf(current);
    if (def.type === 'string' || def.type === 'number' || def.type === 'boolean') return def.type;
    current = def.innerType;
  }
  return null;
}

function humanise(key: string): string {
  const spaced = key.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

/**
 * The location types the API accepts, read from the shared discriminated union, so that a
 * backend added to `PairLocationSchema` appears in the form without changes here.
 */
export function locationKinds(
  union: { options: readonly z.ZodObject[] } = PairLocationSchema as unknown as {
    options: readonly z.ZodObject[];
  },
): LocationKind[] {
  return union.options.map((option) => {
    const shape = option.shape as Record<string, z.ZodType>;
    const typeSchema = shape.type as unknown as { value: string };
    const type = typeSchema.value as PairLocation['type'];
    const secrets = new Set(locationSecretFields(type));
    const fields: LocationField[] = [];
    for (const [key, schema] of Object.entries(shape)) {
      if (key === 'type') continue;
      const kind = baseKind(schema);
      if (!kind) continue;
      const missing = schema.safeParse(undefined);
      fields.push({
        key,
        kind,
        isRequired: !missing.success,
        isSecret: secrets.has(key),
        defaultValue: missing.success ? (missing.data as LocationField['defaultValue']) : undefined,
        label: FIELD_LABELS[key] ?? humanise(key),
      });
    }
    return { type, label: TYPE_LABELS[type] ?? type.toUpperCase(), fields };
  });
}

/** Empty form values for a location type, with the schema's defaults filled in. */
export function emptyLocationValues(kind: LocationKind): LocationValues {
  const values: LocationValues = { type: kind.type };
  for (const field of kind.fields) {
    if (field.kind === 'boolean') values[field.key] = field.defaultValue === true;
    else values[field.key] = field.defaultValue === undefined ? '' : String(field.defaultValue);
  }
  return values;
}

/** Form values from a stored location (secrets are never returned, so they stay empty). */
export function locationToValues(location: Record<string, unknown>, kinds: LocationKind[]): LocationValues {
  const kind = kinds.find((candidate) => candidate.type === location.type);
  if (!kind) return { type: String(location.type) };
  const values = emptyLocationValues(kind);
  for (const field of kind.fields) {
    const value = location[field.key];
    if (value === undefined || value === null || field.isSecret) continue;
    values[field.key] = field.kind === 'boolean' ? value === true : String(value);
  }
  return values;
}

/**
 * The request body of a location. Empty optional inputs are left out (so the schema's
 * default applies, and a saved secret is kept); numbers are sent as numbers.
 */
export function valuesToLocation(values: LocationValues, kinds: LocationKind[]): Record<string, unknown> {
  const kind = kinds.find((candidate) => candidate.type === values.type);
  const body: Record<string, unknown> = { type: values.type };
  if (!kind) return body;
  for (const field of kind.fields) {
    const value = values[field.key];
    if (field.kind === 'boolean') {
      body[field.key] = value === true;
      continue;
    }
    const text = typeof value === 'string' ? value.trim() : '';
    if (text === '') {
      if (field.isRequired) body[field.key] = '';
      continue;
    }
    body[field.key] = field.kind === 'number' ? Number(text) : text;
  }
  return body;
}
