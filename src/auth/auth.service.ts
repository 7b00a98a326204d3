import type { AuditRecorder, RecordInput } from '../audit/audit-recorder.js';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import type { SqlExecutor } from '../store/sql-database.js';
import type { TokenStore } from '../tokens/token.store.js';
import type { UserRecord, UserStore } from '../users/user.store.js';
import type { Principal } from './access.js';
import { DUMMY_HASH, verifyPassword } from './password.js';
import type { SessionLimits, SessionStore } from './session.store.js';

export interface LoginPolicy extends SessionLimits {
  /** Failed attempts within `lockoutWindowMs` that lock an account. */
  readonly lockoutThreshold: number;
  readonly lockoutWindowMs: number;
  /** How long a lock lasts unless an admin lifts it. */
  readonly lockDurationMs: number;
}

export interface ClientInfo {
  readonly ip: string;
  readonly userAgent: string | null;
  readonly requestId?: string;
}

export interface LoginResult {
  readonly cookie: string;
  readonly csrfToken: string;
  readonly user: Pick<UserRecord, 'id' | 'username' | 'role'>;
}

const BAD_CREDENTIALS = 'Invalid username or password.';

/**
 * Sign-in, sign-out and request authentication. Every outcome of a login is audited; the
 * answer for an unknown user and a wrong password is the same, in content and in timing.
 */
export class AuthService {
  constructor(
    private readonly deps: {
      users: UserStore;
      sessions: SessionStore;
      tokens: TokenStore;
      recorder: AuditRecorder;
      clock: Clock;
      policy: () => Promise<LoginPolicy>;
    },
  ) {}

  async login(username: string, password: string, client: ClientInfo): Promise<LoginResult> {
    const { users, sessions, recorder, clock } = this.deps;
    const policy = await this.deps.policy();
    const user = await users.byUsername(username);
    const now = clock.now();
    if (!user) {
      await verifyPassword(DUMMY_HASH, password);
      await this.recordFailure(username, null, 'unknown_user', client);
      throw new AppError('unauthenticated', BAD_CREDENTIALS);
    }
    if (user.disabled) {
      await verifyPassword(DUMMY_HASH, password);
      await this.recordFailure(username, user.id, 'disabled', client);
      throw new AppError('unauthenticated', BAD_CREDENTIALS);
    }
    // Counted before the (slow) password check, so parallel guesses cannot all be tried.
    const attempt = await users.registerAttempt(user.id, now, policy);
    if (attempt.locked) {
      await this.recordFailure(username, user.id, 'locked', client);
      const until = new Date(attempt.lockedUntil ?? now).toISOString();
      throw new AppError('account_locked', `Account is locked until ${until}.`, { locked_until: until });
    }
    if (!(await verifyPassword(user.password_hash, password))) {
      await this.countFailure(user, attempt.count, policy, client);
      throw new AppError('unauthenticated', BAD_CREDENTIALS);
    }
    let session: { cookie: string; csrfToken: string } | undefined;
    await recorder.record(
      {
        action: 'auth.login.success',
        actor: { type: 'user', id: user.id, name: user.username },
        resource: { id: user.id, name: user.username },
        details: { username: user.username, ip: client.ip, user_agent: client.userAgent ?? '' },
        source: { ip: client.ip, user_agent: client.userAgent },
        requestId: client.requestId,
      },
      async (tx) => {
        await users.clearFailures(user.id, now, tx);
        session = await sessions.create(tx, user.id, now, client.ip, client.userAgent);
      },
    );
    return { cookie: session!.cookie, csrfToken: session!.csrfToken, user: { id: user.id, username: user.username, role: user.role } };
  }

  async logout(principal: Principal & { kind: 'user' }, client: ClientInfo): Promise<void> {
    await this.deps.recorder.record(
      {
        action: 'auth.logout',
        actor: { type: 'user', id: principal.userId, name: principal.username },
        resource: { id: principal.userId, name: principal.username },
        details: { username: principal.username },
        source: { ip: client.ip, user_agent: client.userAgent },
        requestId: client.requestId,
      },
      (tx: SqlExecutor) => this.deps.sessions.delete(tx, principal.sessionIdHash),
    );
  }

  async fromSessionCookie(cookie: string): Promise<Principal | undefined> {
    const policy = await this.deps.policy();
    const s = await this.deps.sessions.resolve(cookie, this.deps.clock.now(), policy);
    return s && { kind: 'user', userId: s.userId, username: s.username, role: s.role, sessionIdHash: s.idHash, csrfToken: s.csrfToken };
  }

  async fromBearer(token: string): Promise<Principal | undefined> {
    const t = await this.deps.tokens.authenticate(token, this.deps.clock.now());
    return t && { kind: 'token', tokenId: t.id, name: t.name, scopes: t.scopes };
  }

  /** Records a bad password; the attempt that reached the threshold locks the account, once. */
  private async countFailure(user: UserRecord, count: number, policy: LoginPolicy, client: ClientInfo): Promise<void> {
    const now = this.deps.clock.now();
    const lockedUntil = count >= policy.lockoutThreshold ? now + policy.lockDurationMs : null;
    if (lockedUntil !== null) await this.deps.users.lock(user.id, lockedUntil, now);
    const failure = this.failureEvent(user.username, user.id, 'bad_password', client);
    const events: RecordInput[] = [failure];
    if (lockedUntil !== null && count === policy.lockoutThreshold) {
      events.push({
        ...failure,
        action: 'auth.account.locked',
        actor: { type: 'system', id: 'system', name: 'system' },
        details: { username: user.username, attempt_count: count, locked_until: new Date(lockedUntil).toISOString() },
      });
    }
    await this.deps.recorder.recordBatch(events);
  }

  private async recordFailure(username: string, userId: string | null, reason: 'unknown_user' | 'disabled' | 'locked', client: ClientInfo): Promise<void> {
    await this.deps.recorder.record(this.failureEvent(username, userId, reason, client));
  }

  private failureEvent(username: string, userId: string | null, reason: string, client: ClientInfo): RecordInput {
    return {
      action: 'auth.login.failed',
      actor: { type: 'user', id: userId, name: username },
      resource: { id: userId ?? username, name: username },
      details: { username, ip: client.ip, reason, user_agent: client.userAgent ?? '' },
      source: { ip: client.ip, user_agent: client.userAgent },
      requestId: client.requestId,
    };
  }
}
