import type { FastifyRequest } from 'fastify';

/**
 * The origin the request was addressed to, as a browser writes it (`https://host:port`):
 * the Host header with the scheme the client used (`X-Forwarded-Proto` from a TLS proxy,
 * which a cross-site page cannot set without a preflight this server never grants).
 */
function ownOrigin(request: FastifyRequest): string | null {
  const host = request.headers.host;
  if (!host) return null;
  const forwarded = request.headers['x-forwarded-proto'];
  const scheme = (typeof forwarded === 'string' ? forwarded.split(',')[0]?.trim() : '') || request.protocol;
  try {
    return new URL(`${scheme}://${host}`).origin;
  } catch {
    return null;
  }
}

/**
 * True when a browser sent the request from a page of another origin: an `Origin` that is
 * not exactly this server's (scheme, host and port), or, without one, `Sec-Fetch-Site`
 * saying so. Requests from non-browser clients carry neither and are not cross-origin.
 */
export function isCrossOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) {
    const site = request.headers['sec-fetch-site'];
    return site !== undefined && site !== 'same-origin' && site !== 'none';
  }
  const own = ownOrigin(request);
  if (own === null) return true;
  try {
    return new URL(origin).origin !== own;
  } catch {
    // `Origin: null` (sandboxed frames, privacy redirects) and anything unreadable.
    return true;
  }
}
