import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Every file below `dir` but the engine's own (`.syncengine`), by path relative to `dir`,
 * with its content in `encoding` (`base64` for bytes that are not text).
 */
export async function filesBelow(
  dir: string,
  encoding: BufferEncoding = 'utf8',
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name).slice(dir.length + 1);
    if (path.startsWith('.syncengine') || !entry.isFile()) continue;
    out[path] = await readFile(join(dir, path), encoding);
  }
  return out;
}
