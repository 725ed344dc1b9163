import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError, EXIT, usageError } from '../exit-codes.js';

/** Where `syncengine login` keeps the server and token. */
export function credentialsFile(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'syncengine', 'credentials.json');
}

/** A server to talk to and the API token that signs in to it. */
export interface Credentials {
  url: string;
  token: string;
}

/** `http://host:8080/` → `http://host:8080`; refuses what is not an http(s) URL. */
export function normaliseServerUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`);
  } catch {
    throw usageError(`not a server URL: ${text} (expected e.g. http://127.0.0.1:8080)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw usageError(`not a server URL: ${text} (expected http:// or https://)`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/**
 * Writes the credentials readable by their owner only (0600, in a 0700 folder): written
 * to a temporary file with that mode first, then renamed over the old file, so the token
 * is never readable by others, not even for a moment.
 */
export async function saveCredentials(env: NodeJS.ProcessEnv, credentials: Credentials): Promise<string> {
  const file = credentialsFile(env);
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600, flag: 'w' });
  await chmod(temporary, 0o600);
  await rename(temporary, file);
  return file;
}

export async function removeCredentials(env: NodeJS.ProcessEnv): Promise<boolean> {
  const file = credentialsFile(env);
  const existed = await readFile(file).then(
    () => true,
    () => false,
  );
  await rm(file, { force: true });
  return existed;
}

async function storedCredentials(env: NodeJS.ProcessEnv): Promise<Partial<Credentials>> {
  const file = credentialsFile(env);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliError(EXIT.runtimeError, `cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as Partial<Credentials>;
    return {
      ...(typeof parsed.url === 'string' ? { url: parsed.url } : {}),
      ...(typeof parsed.token === 'string' ? { token: parsed.token } : {}),
    };
  } catch {
    throw usageError(`${file} is not valid JSON; run syncengine login again`);
  }
}

/**
 * The server and token to use: `SYNCENGINE_URL` and `SYNCENGINE_TOKEN` when set, else
 * what `syncengine login` stored.
 */
export async function loadCredentials(env: NodeJS.ProcessEnv): Promise<Credentials> {
  const stored = await storedCredentials(env);
  const url = env.SYNCENGINE_URL || stored.url;
  const token = env.SYNCENGINE_TOKEN || stored.token;
  if (!url || !token) {
    throw usageError(
      'not signed in to a server: run syncengine login <url> (or set SYNCENGINE_URL and SYNCENGINE_TOKEN)',
    );
  }
  return { url: normaliseServerUrl(url), token };
}
