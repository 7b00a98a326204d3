import { AuditRecorder } from './audit/audit-recorder.js';
import { AuditService } from './audit/audit.service.js';
import { SqlAuditStore } from './audit/sql-audit-store.js';
import type { LoginPolicy } from './auth/auth.service.js';
import { AuthService } from './auth/auth.service.js';
import { SessionStore } from './auth/session.store.js';
import { Catalog } from './catalog/catalog.js';
import type { Clock } from './lib/clock.js';
import { migrate } from './store/migrator.js';
import { openDatabase } from './store/open-database.js';
import type { SqlDatabase } from './store/sql-database.js';
import { TokenService } from './tokens/token.service.js';
import { TokenStore } from './tokens/token.store.js';
import { UserService } from './users/user.service.js';
import { UserStore } from './users/user.store.js';

const MINUTE = 60_000;

/** Sign-in policy until the settings module takes it over. */
export const DEFAULT_LOGIN_POLICY: LoginPolicy = {
  lockoutThreshold: 5,
  lockoutWindowMs: 15 * MINUTE,
  lockDurationMs: 15 * MINUTE,
  idleMs: 30 * MINUTE,
  absoluteMs: 12 * 60 * MINUTE,
};

/** Everything Trailmark's services need, wired once from a database URL. */
export interface Core {
  readonly db: SqlDatabase;
  readonly clock: Clock;
  readonly catalog: Catalog;
  readonly auditStore: SqlAuditStore;
  readonly recorder: AuditRecorder;
  readonly audit: AuditService;
  readonly auth: AuthService;
  readonly users: UserService;
  readonly tokens: TokenService;
  close(): Promise<void>;
}

/** Opens the database, applies migrations and builds the services (the composition root). */
export async function openCore(options: { databaseUrl: string; clock: Clock }): Promise<Core> {
  const { clock } = options;
  const db = await openDatabase(options.databaseUrl);
  try {
    await migrate(db, () => clock.now());
  } catch (err) {
    await db.close();
    throw err;
  }
  const catalog = new Catalog();
  const auditStore = new SqlAuditStore(db, () => clock.now());
  const recorder = new AuditRecorder(catalog, auditStore);
  const userStore = new UserStore(db);
  const tokenStore = new TokenStore(db);
  return {
    db,
    clock,
    catalog,
    auditStore,
    recorder,
    audit: new AuditService(catalog, auditStore, recorder, clock),
    auth: new AuthService({ users: userStore, sessions: new SessionStore(db), tokens: tokenStore, recorder, clock, policy: () => Promise.resolve(DEFAULT_LOGIN_POLICY) }),
    users: new UserService(userStore, recorder, clock),
    tokens: new TokenService(tokenStore, recorder, clock),
    close: () => db.close(),
  };
}
