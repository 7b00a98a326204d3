import { v7 as uuidv7 } from 'uuid';
import type { AuditRecorder, RecordInput } from '../audit/audit-recorder.js';
import type { Role } from '../auth/access.js';
import { ROLES } from '../auth/access.js';
import { checkPasswordPolicy, hashPassword } from '../auth/password.js';
import type { Clock } from '../lib/clock.js';
import { AppError, invalid } from '../lib/errors.js';
import { randomSecret } from '../lib/secrets.js';
import { isUniqueViolation } from '../store/sql-errors.js';
import type { UserRecord, UserStore } from './user.store.js';

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/** Who acts on users: a signed-in admin, or the operator at the CLI / first start. */
export type UserActor = RecordInput['actor'];

export const SYSTEM_ACTOR: UserActor = { type: 'system', id: 'system', name: 'system' };

/** User management rules; every change is audited in the same transaction as the change. */
export class UserService {
  constructor(
    private readonly users: UserStore,
    private readonly recorder: AuditRecorder,
    private readonly clock: Clock,
  ) {}

  async create(input: { username: string; password: string; role: Role }, actor: UserActor, source?: RecordInput['source']): Promise<UserRecord> {
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
        source,
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
    const created = await this.users.byId(id);
    if (!created) throw new Error('created user vanished');
    return created;
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
}
