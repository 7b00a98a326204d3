import { v7 as uuidv7 } from 'uuid';
import type { AuditRecorder, RecordInput } from '../audit/audit-recorder.js';
import type { RequestContext } from '../audit/audit.service.js';
import { actorOf } from '../audit/audit.service.js';
import type { Principal, Role } from '../auth/access.js';
import { ROLES } from '../auth/access.js';
import { checkPasswordPolicy, hashPassword, verifyPassword } from '../auth/password.js';
import type { SessionStore } from '../auth/session.store.js';
import type { Clock } from '../lib/clock.js';
import { AppError, invalid, notFound } from '../lib/errors.js';
import { randomSecret } from '../lib/secrets.js';
import { isUniqueViolation } from '../store/sql-errors.js';
import type { SqlExecutor } from '../store/sql-database.js';
import type { UserRecord, UserStore } from './user.store.js';

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/** Who acts on users: a signed-in admin, or the operator at the CLI / first start. */
export type UserActor = RecordInput['actor'];

export const SYSTEM_ACTOR: UserActor = { type: 'system', id: 'system', name: 'system' };

export interface UserChange {
  readonly role?: Role;
  readonly password?: string;
  readonly disabled?: boolean;
  /** Lift a sign-in lock now. */
  readonly unlock?: boolean;
}

const sourceOf = (ctx?: RequestContext): RecordInput['source'] => (ctx ? { ip: ctx.ip, user_agent: ctx.userAgent } : undefined);

/**
 * User management. Every change is audited in the same transaction as the change; the last
 * enabled admin can be neither deleted, demoted nor disabled (checked inside that transaction,
 * so two admins cannot demote each other at once). A password change ends the user's sessions.
 */
export class UserService {
  constructor(
    private readonly users: UserStore,
    private readonly sessions: SessionStore,
    private readonly recorder: AuditRecorder,
    private readonly clock: Clock,
  ) {}

  list(): Promise<UserRecord[]> {
    return this.users.list();
  }

  async create(input: { username: string; password: string; role: Role }, actor: UserActor, ctx?: RequestContext): Promise<UserRecord> {
    if (!USERNAME.test(input.username)) throw invalid('username must be 1–64 letters, digits, or . _ @ - (starting with a letter or digit)', { field: 'body.username' });
    if (!ROLES.includes(input.role)) throw invalid(`role must be one of ${ROLES.join(', ')}`, { field: 'body.role' });
    checkPasswordPolicy(input.password, 'password');
    if (await this.users.byUsername(input.username)) throw new AppError('conflict', `User '${input.username}' already exists.`);
    const id = uuidv7();
    const passwordHash = await hashPassword(input.password);
    const now = this.clock.now();
    await this.recorder.record(
      {
        action: 'user.created',
        actor,
        resource: { id, name: input.username },
        details: { username: input.username, role: input.role, created_by: actor.name ?? 'unknown' },
        source: sourceOf(ctx),
        requestId: ctx?.requestId,
      },
      async (tx) => {
        try {
          await this.users.insert(tx, { id, username: input.username, password_hash: passwordHash, role: input.role, created_at: now });
        } catch (err) {
          // Two requests (or two nodes) creating the same user at once: one wins, cleanly.
          if (isUniqueViolation(err)) throw new AppError('conflict', `User '${input.username}' already exists.`);
          throw err;
        }
      },
    );
    return this.mustGet(id);
  }

  async update(id: string, change: UserChange, ctx: RequestContext): Promise<UserRecord> {
    const user = await this.mustGet(id);
    const actor = actorOf(ctx.principal);
    const changed: Record<string, unknown> = {};
    if (change.role !== undefined && change.role !== user.role) changed.role = { old: user.role, new: change.role };
    if (change.disabled !== undefined && change.disabled !== user.disabled) changed.disabled = { old: user.disabled, new: change.disabled };
    let passwordHash: string | undefined;
    if (change.password !== undefined) {
      checkPasswordPolicy(change.password, 'password');
      passwordHash = await hashPassword(change.password);
      changed.password = { changed: true };
    }
    const unlocking = change.unlock === true && user.locked_until !== null && user.locked_until > this.clock.now();
    const events: RecordInput[] = [];
    const base = { actor, resource: { id, name: user.username }, source: sourceOf(ctx), requestId: ctx.requestId };
    if (Object.keys(changed).length > 0) events.push({ ...base, action: 'user.updated', details: { username: user.username, changed_fields: changed, modified_by: actor.name ?? 'unknown' } });
    if (unlocking) events.push({ ...base, action: 'auth.account.unlocked', details: { username: user.username, unlocked_by: actor.name ?? 'unknown' } });
    if (events.length === 0) return user;
    const losesAdmin = user.role === 'admin' && ((change.role !== undefined && change.role !== 'admin') || change.disabled === true);
    const now = this.clock.now();
    await this.recorder.recordBatch(events, async (tx) => {
      if (losesAdmin) await this.keepOneAdmin(tx, id);
      await this.users.update(tx, id, { role: change.role, password_hash: passwordHash, disabled: change.disabled }, now);
      if (unlocking) await this.users.clearFailures(id, now, tx);
      if (passwordHash !== undefined || change.disabled === true) {
        const keep = ctx.principal.kind === 'user' && ctx.principal.userId === id ? ctx.principal.sessionIdHash : undefined;
        await this.sessions.deleteForUser(tx, id, keep);
      }
    });
    return this.mustGet(id);
  }

  /** A signed-in user changes their own password; their other sessions end. */
  async changeOwnPassword(principal: Principal & { kind: 'user' }, current: string, next: string, ctx: RequestContext): Promise<void> {
    const user = await this.mustGet(principal.userId);
    if (!(await verifyPassword(user.password_hash, current))) throw invalid('current_password is not correct', { field: 'body.current_password' });
    await this.update(user.id, { password: next }, ctx);
  }

  async delete(id: string, ctx: RequestContext): Promise<void> {
    const user = await this.mustGet(id);
    if (ctx.principal.kind === 'user' && ctx.principal.userId === id) throw new AppError('conflict', 'You cannot delete your own account.');
    const actor = actorOf(ctx.principal);
    await this.recorder.record(
      { action: 'user.deleted', actor, resource: { id, name: user.username }, details: { username: user.username, deleted_by: actor.name ?? 'unknown' }, source: sourceOf(ctx), requestId: ctx.requestId },
      async (tx) => {
        if (user.role === 'admin') await this.keepOneAdmin(tx, id);
        await this.sessions.deleteForUser(tx, id);
        if ((await this.users.delete(tx, id)) === 0) throw notFound(`User ${id}`);
      },
    );
  }

  /**
   * On a database with no user, creates `admin` with the given password, or a generated one
   * that the caller prints once. Returns undefined when users exist already.
   */
  async ensureFirstAdmin(password: string | undefined): Promise<{ username: string; generatedPassword?: string } | undefined> {
    if ((await this.users.count()) > 0) return undefined;
    const generated = password === undefined ? randomSecret(18) : undefined;
    try {
      await this.create({ username: 'admin', password: password ?? generated!, role: 'admin' }, SYSTEM_ACTOR);
    } catch (err) {
      // Several nodes starting together on an empty database: another one created the admin.
      if (err instanceof AppError && err.code === 'conflict') return undefined;
      throw err;
    }
    return { username: 'admin', generatedPassword: generated };
  }

  private async keepOneAdmin(tx: SqlExecutor, losingId: string): Promise<void> {
    if ((await this.users.otherActiveAdmins(tx, losingId)) === 0) throw new AppError('conflict', 'This is the last enabled admin: make another admin first.');
  }

  private async mustGet(id: string): Promise<UserRecord> {
    const user = await this.users.byId(id);
    if (!user) throw notFound(`User ${id}`);
    return user;
  }
}
