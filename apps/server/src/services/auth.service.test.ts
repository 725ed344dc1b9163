import { createInProcessEventBus } from '@syncengine/runs';
import { describe, expect, it } from 'vitest';
import { sha256 } from '../password.js';
import { createAuthService } from './auth.service.js';

const USER = { id: '00000000-0000-4000-8000-000000000001', username: 'admin' };

/** Token and session tables in memory, counting the lookups that reach them. */
function setUp(options: { ttlMs?: number; sessionExpiresAt?: number } = {}) {
  let clock = 1_000_000;
  const tokenHashes = new Set<string>();
  const sessionHashes = new Set<string>();
  const lookups = { tokens: 0, sessions: 0 };
  let pendingLookup: (() => void) | null = null;
  let holdNextLookup = false;
  const bus = createInProcessEventBus();
  const auth = createAuthService({
    users: {
      findByUsername: async () => null,
      createIfAbsent: async () => true,
      setPasswordHash: async () => {},
    },
    sessions: {
      create: async () => {},
      findUser: async (hash) => {
        lookups.sessions += 1;
        return sessionHashes.has(hash)
          ? { ...USER, expiresAt: new Date(options.sessionExpiresAt ?? clock + 86_400_000) }
          : null;
      },
      delete: async (hash) => {
        sessionHashes.delete(hash);
      },
      deleteForUser: async () => {},
      deleteExpired: async () => {},
    },
    tokens: {
      create: async () => ({ id: 'id', name: 'name', createdAt: '', lastUsedAt: null }),
      list: async () => [],
      delete: async () => true,
      findUser: async (hash) => {
        lookups.tokens += 1;
        if (holdNextLookup) {
          holdNextLookup = false;
          await new Promise<void>((resolve) => {
            pendingLookup = resolve;
          });
        }
        return tokenHashes.has(hash) ? USER : null;
      },
    },
    bus,
    ...(options.ttlMs === undefined ? {} : { credentialCacheTtlMs: options.ttlMs }),
    now: () => clock,
  });
  return {
    auth,
    bus,
    lookups,
    addToken: (token: string) => tokenHashes.add(sha256(token)),
    removeToken: (token: string) => tokenHashes.delete(sha256(token)),
    addSession: (token: string) => sessionHashes.add(sha256(token)),
    advance: (ms: number) => {
      clock += ms;
    },
    holdNextLookup: () => {
      holdNextLookup = true;
    },
    releaseLookup: () => pendingLookup?.(),
  };
}

describe('authenticate', () => {
  it('asks the database once per credential within the cache time, then again', async () => {
    const t = setUp({ ttlMs: 5_000 });
    t.addToken('se_a');
    expect(await t.auth.authenticate({ bearer: 'se_a' })).toEqual(USER);
    t.removeToken('se_a');
    t.advance(4_999);
    expect(await t.auth.authenticate({ bearer: 'se_a' })).toEqual(USER);
    expect(t.lookups.tokens).toBe(1);
    t.advance(1);
    expect(await t.auth.authenticate({ bearer: 'se_a' })).toBeNull();
    expect(t.lookups.tokens).toBe(2);
  });

  it('never remembers a refused credential', async () => {
    const t = setUp();
    expect(await t.auth.authenticate({ bearer: 'se_later' })).toBeNull();
    t.addToken('se_later');
    expect(await t.auth.authenticate({ bearer: 'se_later' })).toEqual(USER);
    expect(t.lookups.tokens).toBe(2);
  });

  it('forgets every credential of a user when a revocation for that user arrives on the bus', async () => {
    const t = setUp({ ttlMs: 600_000 });
    t.addToken('se_a');
    t.addSession('cookie');
    await t.auth.authenticate({ bearer: 'se_a' });
    await t.auth.authenticate({ sessionToken: 'cookie' });
    t.removeToken('se_a');
    await t.bus.publish({ type: 'credentials.revoked', userId: 'someone else' });
    expect(await t.auth.authenticate({ bearer: 'se_a' })).toEqual(USER);
    await t.bus.publish({ type: 'credentials.revoked', userId: USER.id });
    expect(await t.auth.authenticate({ bearer: 'se_a' })).toBeNull();
    expect(await t.auth.authenticate({ sessionToken: 'cookie' })).toEqual(USER);
    expect(t.lookups).toEqual({ tokens: 2, sessions: 2 });
  });

  it('does not remember a lookup that a revocation overtook', async () => {
    const t = setUp({ ttlMs: 600_000 });
    t.addToken('se_a');
    t.holdNextLookup();
    const during = t.auth.authenticate({ bearer: 'se_a' });
    await t.bus.publish({ type: 'credentials.revoked', userId: USER.id });
    t.releaseLookup();
    expect(await during).toEqual(USER);
    t.removeToken('se_a');
    expect(await t.auth.authenticate({ bearer: 'se_a' })).toBeNull();
  });

  it('trusts a session no longer than it lasts', async () => {
    const t = setUp({ ttlMs: 600_000, sessionExpiresAt: 1_000_000 + 2_000 });
    t.addSession('cookie');
    await t.auth.authenticate({ sessionToken: 'cookie' });
    t.advance(1_999);
    await t.auth.authenticate({ sessionToken: 'cookie' });
    expect(t.lookups.sessions).toBe(1);
    t.advance(1);
    await t.auth.authenticate({ sessionToken: 'cookie' });
    expect(t.lookups.sessions).toBe(2);
  });

  it('forgets a logged-out session at once on this server', async () => {
    const t = setUp({ ttlMs: 600_000 });
    t.addSession('cookie');
    await t.auth.authenticate({ sessionToken: 'cookie' });
    await t.auth.logout('cookie');
    expect(await t.auth.authenticate({ sessionToken: 'cookie' })).toBeNull();
  });
});
