import type { CreatedToken, Token, User } from '@syncengine/contracts';
import type { SessionRepo, TokenRepo, UserRepo } from '@syncengine/db';
import type { EventBus } from '@syncengine/runs';
import { AppError } from '../errors.js';
import { hashPassword, PasswordCheckBusyError, randomSecret, sha256, verifyPassword } from '../password.js';

export const ADMIN_USERNAME = 'admin';
/** Sessions last 30 days. */
export const SESSION_TTL_MS = 30 * 24 * 60 * 60_000;
/** Prefix of API tokens, so a leaked one is recognisable. */
const TOKEN_PREFIX = 'se_';
const DUMMY_HASH = 'scrypt$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
/**
 * How long a checked session or token is trusted without asking the database again.
 * Revocations (logout, deleted token, password reset) are pushed over the event bus and
 * end the trust at once on every server; this bounds what a lost message could keep open.
 */
export const CREDENTIAL_CACHE_TTL_MS = 5_000;
/** Credentials remembered at most; the oldest go first. */
const CREDENTIAL_CACHE_SIZE = 10_000;

export function createAuthService(deps: {
  users: Pick<UserRepo, 'findByUsername' | 'createIfAbsent' | 'setPasswordHash'>;
  sessions: Pick<SessionRepo, 'create' | 'findUser' | 'delete' | 'deleteForUser' | 'deleteExpired'>;
  tokens: Pick<TokenRepo, 'create' | 'list' | 'delete' | 'findUser'>;
  /**
   * Where revocations are announced and heard: every server closes the sockets and drops
   * the cached credentials of the user.
   */
  bus?: Pick<EventBus, 'publish'> & Partial<Pick<EventBus, 'subscribe'>>;
  credentialCacheTtlMs?: number;
  now?: () => number;
}) {
  const now = deps.now ?? Date.now;
  const cacheTtlMs = deps.credentialCacheTtlMs ?? CREDENTIAL_CACHE_TTL_MS;
  /** Checked credentials by kind and hash; only valid ones are kept. */
  const checked = new Map<string, { user: User; until: number }>();
  /** Bumped by every revocation, so a lookup that overlapped one is not cached. */
  let revocations = 0;
  const forgetUser = (userId: string) => {
    revocations += 1;
    for (const [key, entry] of checked) if (entry.user.id === userId) checked.delete(key);
  };
  deps.bus?.subscribe?.((event) => {
    if (event.type === 'credentials.revoked') forgetUser(event.userId);
  });
  const announceRevoked = async (userId: string) => {
    // This server stops trusting them before the answer goes out; the others when the event arrives.
    forgetUser(userId);
    await deps.bus?.publish({ type: 'credentials.revoked', userId }).catch(() => {});
  };

  /** The user behind the credentials, from the database. */
  async function lookUp(credentials: {
    sessionToken?: string | undefined;
    bearer?: string | undefined;
  }): Promise<{ user: User; expiresAt?: Date } | null> {
    if (credentials.bearer) {
      const user = await deps.tokens.findUser(sha256(credentials.bearer));
      return user ? { user: { id: user.id, username: user.username } } : null;
    }
    if (credentials.sessionToken) {
      const session = await deps.sessions.findUser(sha256(credentials.sessionToken));
      return session
        ? { user: { id: session.id, username: session.username }, expiresAt: session.expiresAt }
        : null;
    }
    return null;
  }

  return {
    /**
     * Creates the `admin` user on first start, with the given password or a generated one.
     * Returns the generated password (to print once), or null when none was generated.
     */
    async ensureAdmin(
      password: string | undefined,
    ): Promise<{ created: boolean; generatedPassword: string | null }> {
      if (await deps.users.findByUsername(ADMIN_USERNAME)) return { created: false, generatedPassword: null };
      const chosen = password ?? randomSecret(15);
      const created = await deps.users.createIfAbsent(ADMIN_USERNAME, await hashPassword(chosen));
      return { created, generatedPassword: created && password === undefined ? chosen : null };
    },

    /**
     * Sets a new password for `admin` (creating the user if absent) and ends its sessions:
     * the given one, or a generated one that is returned to print once.
     */
    async resetAdminPassword(password: string | undefined): Promise<{ generatedPassword: string | null }> {
      const chosen = password ?? randomSecret(15);
      await deps.users.setPasswordHash(ADMIN_USERNAME, await hashPassword(chosen));
      const admin = await deps.users.findByUsername(ADMIN_USERNAME);
      if (admin) {
        await deps.sessions.deleteForUser(admin.id);
        await announceRevoked(admin.id);
      }
      return { generatedPassword: password === undefined ? chosen : null };
    },

    /** Checks the credentials and opens a session; returns the cookie value. */
    async login(
      username: string,
      password: string,
    ): Promise<{ user: User; sessionToken: string; expiresAt: Date }> {
      const user = await deps.users.findByUsername(username);
      // Verify against a dummy hash when the user does not exist, so timing reveals nothing.
      let isValid: boolean;
      try {
        isValid = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
      } catch (error) {
        if (error instanceof PasswordCheckBusyError) {
          throw new AppError('UNAVAILABLE', 'too many sign-ins at once; try again in a moment');
        }
        throw error;
      }
      if (!user || !isValid) throw new AppError('UNAUTHORIZED', 'invalid username or password');
      const sessionToken = randomSecret();
      const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
      await deps.sessions.create(sha256(sessionToken), user.id, expiresAt);
      void deps.sessions.deleteExpired().catch(() => {});
      return { user: { id: user.id, username: user.username }, sessionToken, expiresAt };
    },

    async logout(sessionToken: string): Promise<void> {
      const user = await deps.sessions.findUser(sha256(sessionToken));
      await deps.sessions.delete(sha256(sessionToken));
      checked.delete(`session:${sha256(sessionToken)}`);
      if (user) await announceRevoked(user.id);
    },

    /**
     * The user behind a session cookie or a bearer token, or null. A valid credential is
     * remembered for a few seconds (never past its session's expiry) until a revocation
     * for its user is announced.
     */
    async authenticate(credentials: {
      sessionToken?: string | undefined;
      bearer?: string | undefined;
    }): Promise<User | null> {
      // Keyed by hash, so no secret stays in memory longer than the request.
      const key = credentials.bearer
        ? `bearer:${sha256(credentials.bearer)}`
        : credentials.sessionToken
          ? `session:${sha256(credentials.sessionToken)}`
          : null;
      if (key === null) return null;
      const at = now();
      const cached = checked.get(key);
      if (cached && cached.until > at) return cached.user;
      if (cached) checked.delete(key);
      const revocationsBefore = revocations;
      const found = await lookUp(credentials);
      if (!found) return null;
      if (revocations === revocationsBefore) {
        if (checked.size >= CREDENTIAL_CACHE_SIZE) checked.delete(checked.keys().next().value!);
        const until = Math.min(at + cacheTtlMs, found.expiresAt?.getTime() ?? Number.POSITIVE_INFINITY);
        checked.set(key, { user: found.user, until });
      }
      return found.user;
    },
    /** As `authenticate`, always asking the database (re-checking open WebSockets). */
    async authenticateUncached(credentials: {
      sessionToken?: string | undefined;
      bearer?: string | undefined;
    }): Promise<User | null> {
      return (await lookUp(credentials))?.user ?? null;
    },

    async createToken(userId: string, name: string): Promise<CreatedToken> {
      const token = `${TOKEN_PREFIX}${randomSecret()}`;
      const created = await deps.tokens.create(userId, name, sha256(token));
      return { ...created, token };
    },
    listTokens: (userId: string): Promise<Token[]> => deps.tokens.list(userId),
    async deleteToken(userId: string, id: string): Promise<void> {
      if (!(await deps.tokens.delete(userId, id))) throw new AppError('NOT_FOUND', `no token with id ${id}`);
      await announceRevoked(userId);
    },
  };
}
export type AuthService = ReturnType<typeof createAuthService>;
