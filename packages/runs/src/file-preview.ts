import { CONFLICT_PREVIEW_MAX_BYTES, type ConflictPreview, type Location } from '@syncengine/contracts';
import type { StoredLocation } from '@syncengine/db';
import { normalizeRelativePath, type Storage, SyncError } from '@syncengine/engine';
import type { SecretBox } from '@syncengine/secrets';

/**
 * Decides whether the bytes read from the start of a file are text: valid UTF-8 without
 * NUL bytes. When the file goes on (`isTruncated`), a character cut by the end of what was
 * read is dropped rather than counted as invalid.
 */
export function describeFileStart(bytes: Uint8Array, isTruncated: boolean): ConflictPreview {
  const binary = { isText: false, text: null, truncated: isTruncated };
  if (bytes.includes(0)) return binary;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: isTruncated });
    return { isText: true, text, truncated: isTruncated };
  } catch {
    return binary;
  }
}

/** Reads at most `maxBytes` from the start of a stream, then stops it. */
async function readStart(
  stream: AsyncIterable<Uint8Array> & { destroy?(): void },
  maxBytes: number,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  try {
    for await (const chunk of stream) {
      const part = chunk.subarray(0, maxBytes - length);
      chunks.push(part);
      length += part.length;
      if (length >= maxBytes) break;
    }
  } finally {
    stream.destroy?.();
  }
  return Buffer.concat(chunks, length);
}

/**
 * The start of one side's version of a conflicting file, opened the way a run opens it
 * (the stored location decrypted, then `openStorage`). The path is checked with the
 * engine's rules first, so nothing outside the location's root is ever read. Throws a
 * `SyncError('NOT_FOUND')` when there is no file at the path (gone, or a folder now).
 */
export async function previewFile(
  deps: {
    secrets: Pick<SecretBox, 'open'>;
    openStorage(location: Location): Promise<Storage>;
  },
  location: StoredLocation,
  path: string,
  maxBytes: number = CONFLICT_PREVIEW_MAX_BYTES,
): Promise<ConflictPreview> {
  const relative = normalizeRelativePath(path);
  const storage = await deps.openStorage(deps.secrets.open(location));
  try {
    const entry = await storage.stat(relative);
    if (!entry || entry.isDir) throw new SyncError('NOT_FOUND', `"${relative}" is not a file on this side`);
    const controller = new AbortController();
    try {
      // One byte more than shown tells whether the file goes on.
      const bytes = await readStart(
        await storage.read(relative, { signal: controller.signal }),
        maxBytes + 1,
      );
      const isTruncated = bytes.length > maxBytes;
      return describeFileStart(isTruncated ? bytes.subarray(0, maxBytes) : bytes, isTruncated);
    } finally {
      controller.abort();
    }
  } finally {
    await storage.close?.().catch(() => {});
  }
}

/** A file opened for reading, to be closed once its stream has been sent (or failed). */
export interface OpenedFile {
  size: number;
  stream: NodeJS.ReadableStream;
  close(): Promise<void>;
}

/**
 * Opens one side's file at `path` for reading, the way {@link previewFile} reads it: the
 * path is checked with the engine's rules first, so nothing outside the location's root is
 * ever opened. Throws a `SyncError('NOT_FOUND')` when there is no file at the path.
 */
export async function openFile(
  deps: {
    secrets: Pick<SecretBox, 'open'>;
    openStorage(location: Location): Promise<Storage>;
  },
  location: StoredLocation,
  path: string,
): Promise<OpenedFile> {
  const relative = normalizeRelativePath(path);
  const storage = await deps.openStorage(deps.secrets.open(location));
  try {
    const entry = await storage.stat(relative);
    if (!entry || entry.isDir) throw new SyncError('NOT_FOUND', `"${relative}" is not a file on this side`);
    const stream = await storage.read(relative);
    return { size: entry.size, stream, close: async () => void (await storage.close?.()) };
  } catch (error) {
    await storage.close?.().catch(() => {});
    throw error;
  }
}
