import type { ErrorResponse } from '@syncengine/contracts';

/** Base path of the API; the dashboard is served on the same origin. */
export const API_BASE = '/api/v1';

/** An API answer that was not 2xx, with the server's error body when it sent one. */
export class ApiError extends Error {
  readonly status: number;
  readonly body: Partial<ErrorResponse>;

  constructor(status: number, body: Partial<ErrorResponse>) {
    super(body.message ?? `Request failed with status ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
  }
}

/** Called when the server answers 401 (the session ended): the app shows the sign-in page. */
let onUnauthorized: (() => void) | null = null;
export function setUnauthorizedHandler(handler: (() => void) | null): void {
  onUnauthorized = handler;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** One JSON request to the API, with the session cookie; throws `ApiError` on failure. */
export async function api<T>(method: Method, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${API_BASE}${path}`, {
      method,
      credentials: 'same-origin',
      headers:
        body === undefined
          ? { accept: 'application/json' }
          : { 'content-type': 'application/json', accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, {
      message: 'The server cannot be reached. Check that it is running, then try again.',
    });
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let parsed: unknown = null;
  if (text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { message: text };
    }
  }
  if (!response.ok) {
    if (response.status === 401 && !path.startsWith('/auth/')) onUnauthorized?.();
    throw new ApiError(response.status, (parsed ?? {}) as Partial<ErrorResponse>);
  }
  return parsed as T;
}

/** A sentence for the user from any error. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.body.message ?? error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** A query string from defined values. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}
