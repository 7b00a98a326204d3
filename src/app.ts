import { AuditRecorder } from './audit/audit-recorder.js';
import { AuditService } from './audit/audit.service.js';
import { SqlAuditStore } from './audit/sql-audit-store.js';
import { AlertRuleService } from './alerts/alert-rule.service.js';
import { AlertRuleStore } from './alerts/alert-rule.store.js';
import { AuthService } from './auth/auth.service.js';
import { SessionStore } from './auth/session.store.js';
import { Catalog } from './catalog/catalog.js';
import type { Clock } from './lib/clock.js';
import { ALERT_RULE_SECRETS, SealedBox } from './lib/sealed-box.js';
import { SettingsService } from './settings/settings.service.js';
import { SettingsStore } from './settings/settings.store.js';
import { migrate } from './store/migrator.js';
import { openDatabase } from './store/open-database.js';
import type { SqlDatabase } from './store/sql-database.js';
import { TokenService } from './tokens/token.service.js';
import { TokenStore } from './tokens/token.store.js';
import { UserService } from './users/user.service.js';
import { UserStore } from './users/user.store.js';
import { SubscriptionService } from './subscriptions/subscription.service.js';
import { OutboxStore } from './forwarding/outbox.store.js';
import { DeliveryDispatcher } from './forwarding/delivery-dispatcher.js';
import { DeliveriesService } from './forwarding/deliveries.service.js';
import { RetentionService } from './retention/retention.service.js';
import { Archiver } from './retention/archiver.js';
import { Metrics } from './metrics/metrics.js';
import { SigningKeys } from './export/signing-keys.js';
import { ExportService } from './export/export.service.js';
import { CheckpointService } from './checkpoints/checkpoint.service.js';
import { CheckpointStore } from './checkpoints/checkpoint.store.js';

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
  readonly settings: SettingsService;
  readonly subscriptions: SubscriptionService;
  readonly alertRules: AlertRuleService;
  readonly outbox: OutboxStore;
  readonly webhooks: DeliveryDispatcher;
  readonly retention: RetentionService;
  readonly deliveries: DeliveriesService;
  readonly metrics: Metrics;
  readonly signingKeys: SigningKeys;
  readonly checkpoints: CheckpointService;
  readonly exports: ExportService;
  close(): Promise<void>;
}

/** Opens the database, applies migrations and builds the services (the composition root). */
export async function openCore(options: { databaseUrl: string; clock: Clock; secretKey: string; archiveDir?: string }): Promise<Core> {
  const { clock } = options;
  const db = await openDatabase(options.databaseUrl);
  try {
    await migrate(db, () => clock.now());
    await db.partitions?.ensure(clock.now());
  } catch (err) {
    await db.close();
    throw err;
  }
  const metrics = new Metrics();
  const catalog = new Catalog();
  const auditStore = new SqlAuditStore(db, () => clock.now());
  const recorder = new AuditRecorder(catalog, auditStore);
  auditStore.onGroupCommit((n) => metrics.groupCommitSize.observe(n));
  recorder.onCommit((entries) => {
    for (const e of entries) metrics.entriesAppended.inc({ action: e.action, severity: e.severity });
  });
  const userStore = new UserStore(db);
  const tokenStore = new TokenStore(db);
  const sessions = new SessionStore(db);
  const settings = new SettingsService(new SettingsStore(db), recorder, clock);
  const ruleStore = new AlertRuleStore(db, new SealedBox(options.secretKey, ALERT_RULE_SECRETS));
  const outbox = new OutboxStore(db);
  const webhooks = new DeliveryDispatcher({ outbox, rules: ruleStore, audit: auditStore, catalog, clock, metrics });
  auditStore.onInsert(webhooks.enqueue);
  const signingKeys = new SigningKeys(db, options.secretKey, () => clock.now());
  const archiver = options.archiveDir ? new Archiver({ store: auditStore, keys: signingKeys, secretKey: options.secretKey, dir: options.archiveDir, now: () => clock.now() }) : undefined;
  const retention = new RetentionService(auditStore, settings, recorder, clock, metrics, archiver);
  settings.retentionPreview = (days) => retention.preview(days);
  const checkpoints = new CheckpointService({
    db, store: new CheckpointStore(db), audit: auditStore, recorder, keys: signingKeys, clock, tenant: async () => (await settings.get()).tenant_name,
  });
  const alertRules = new AlertRuleService(ruleStore, catalog, recorder, clock, () => webhooks.invalidateRules());
  const audit = new AuditService(catalog, auditStore, recorder, clock, metrics, checkpoints);
  return {
    db,
    clock,
    catalog,
    auditStore,
    recorder,
    audit,
    auth: new AuthService({ users: userStore, sessions, tokens: tokenStore, recorder, clock, policy: () => settings.loginPolicy() }),
    users: new UserService(userStore, sessions, recorder, clock),
    tokens: new TokenService(tokenStore, recorder, clock),
    settings,
    subscriptions: new SubscriptionService(db, recorder, clock),
    alertRules,
    deliveries: new DeliveriesService(alertRules, outbox, recorder, clock),
    outbox,
    webhooks,
    retention,
    metrics,
    signingKeys,
    checkpoints,
    exports: new ExportService({ audit, store: auditStore, recorder, settings, keys: signingKeys, clock, secretKey: options.secretKey, metrics }),
    close: async () => {
      webhooks.stop();
      await db.close();
    },
  };
}
