import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** A JSON answer written once, kept while what it was written from is unchanged. */
export interface SerializedBody {
  json: string;
  /** A strong entity tag: a hash of the bytes, so every server gives the same body the same tag. */
  etag: string;
}

export function serializedBody(json: string): SerializedBody {
  return { json, etag: `"${createHash('sha1').update(json).digest('base64url')}"` };
}

/** Whether `If-None-Match` names the tag (weak comparison, RFC 9110 §13.1.2) or is `*`. */
export function isNotModified(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((candidate) => {
    const tag = candidate.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });
}

/**
 * Sends a body serialised before, with its `ETag`; a client that sends that tag in
 * `If-None-Match` gets 304 and no body. `no-cache`: a client may keep the answer but asks
 * again each time, and `private`: it is a signed-in user's.
 */
export function sendSerialized(request: FastifyRequest, reply: FastifyReply, body: SerializedBody) {
  reply.header('etag', body.etag).header('cache-control', 'private, no-cache');
  if (isNotModified(request.headers['if-none-match'], body.etag)) return reply.code(304).send();
  return reply.type('application/json; charset=utf-8').send(body.json);
}
