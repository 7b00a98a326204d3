#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openCore } from './app.js';
import type { Core } from './app.js';
import type { Role, Scope } from './auth/access.js';
import { ROLES, SCOPES } from './auth/access.js';
import { ConfigError, loadConfig } from './config.js';
import type { Config } from './config.js';
import { buildServer } from './http/build-server.js';
import { systemClock } from './lib/clock.js';
import { AppError } from './lib/errors.js';
import { verifyChainWithCheckpoints } from './checkpoints/verify-chain.js';
import { SYSTEM_ACTOR } from './users/user.service.js';
import { VERSION } from './version.js';
import { buildScheduler, startBackground } from './runtime.js';
import { backupSqlite, restoreSqlite } from './operations/sqlite-backup.js';

const USAGE = `trailmark ${VERSION}

Usage:
  trailmark start                         start the API and web UI
  trailmark verify                        re-walk the stored chain (DATABASE_URL)
  trailmark verify FILE [--secret-key K] [--public-key KEY | --keys-url URL]
                                          verify an exported CSV or PDF (no database needed)
  trailmark user create --username NAME --role ROLE [--password-stdin]
  trailmark token create --name NAME --scopes audit:write[,audit:read]
  trailmark retention run                 apply audit_retention_days now (DATABASE_URL)
  trailmark keys rotate                   retire the signing key and make a new one (audited)
  trailmark backup FILE                   online copy of the SQLite database, verified
  trailmark restore FILE [--force]        restore a verified SQLite backup (service stopped)

Configuration comes from the environment (DATABASE_URL, SECRET_KEY, PORT, HOST, …).`;

/** Messages for people go to stderr: stdout carries machine output (tokens, audit lines). */
const say = (line: string): void => void process.stderr.write(`${line}\n`);

async function withCore<T>(config: Config, fn: (core: Core) => Promise<T>): Promise<T> {
  const core = await openCore({ databaseUrl: config.databaseUrl, clock: systemClock, secretKey: config.secretKey, archiveDir: config.archiveDir });
  try {
    return await fn(core);
  } finally {
    await core.close();
  }
}

async function start(config: Config): Promise<void> {
  if (config.secretKeySource === 'generated') say(`WARNING: SECRET_KEY is not set; generated one into ${config.dataDir}/secret_key (development only — set SECRET_KEY in production).`);
  else if (config.secretKeySource === 'data-dir') say(`WARNING: using the development SECRET_KEY from ${config.dataDir}/secret_key.`);
  const core = await openCore({ databaseUrl: config.databaseUrl, clock: systemClock, secretKey: config.secretKey, archiveDir: config.archiveDir });
  const admin = await core.users.ensureFirstAdmin(config.adminPassword);
  if (admin?.generatedPassword) {
    say('');
    say('  First admin created.  username: admin');
    say(`                          password: ${admin.generatedPassword}`);
    say('  This password is shown once. Sign in and change it.');
    say('');
  } else if (admin) {
    say('First admin "admin" created with TRAILMARK_ADMIN_PASSWORD.');
  }
  const stopBackground = startBackground(core, { checkpointIntervalMs: config.checkpointIntervalMs });
  const app = await buildServer(core, { logLevel: config.logLevel, trustProxy: config.trustProxy, bodyLimitBytes: config.bodyLimitBytes, rateLimits: config.rateLimits, metricsToken: config.metricsToken });
  await core.recorder.record({
    action: 'system.started',
    actor: SYSTEM_ACTOR,
    resource: { id: 'trailmark', name: 'Trailmark' },
    details: { version: VERSION, backend: core.db.dialect.name, node_version: process.version },
  });
  const address = await app.listen({ port: config.port, host: config.host });
  say(`Trailmark ${VERSION} listening on ${address} (${core.db.dialect.name}); API docs at ${address}/docs`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: shutting down`);
    stopBackground();
    void app.close().then(() => core.close()).then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

async function verifyStore(config: Config): Promise<number> {
  return withCore(config, async (core) => {
    const result = await verifyChainWithCheckpoints(core.auditStore, core.checkpoints, (n) => say(`… ${n.toLocaleString('en')} entries checked`));
    if (result.ok) {
      say(`OK: ${result.checked} entries verified (seq ${result.from_seq ?? '-'}..${result.to_seq ?? '-'}), head ${result.head_hash}`);
      return 0;
    }
    say(`BROKEN at seq ${result.first_bad_seq}: ${result.reason}`);
    return 1;
  });
}

async function userCreate(config: Config, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { username: { type: 'string' }, role: { type: 'string' }, 'password-stdin': { type: 'boolean' } } });
  if (!values.username || !values.role) throw new UsageError('user create needs --username and --role');
  if (!ROLES.includes(values.role as Role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
  const generated = values['password-stdin'] ? undefined : (await import('./lib/secrets.js')).randomSecret(18);
  const password = generated ?? readFileSync(0, 'utf8').replace(/\r?\n$/, '');
  return withCore(config, async (core) => {
    const cliActor = { type: 'system' as const, id: 'cli', name: 'trailmark cli' };
    await core.users.create({ username: values.username!, password, role: values.role as Role }, cliActor);
    say(`User ${values.username} (${values.role}) created.`);
    if (generated) say(`Password (shown once): ${generated}`);
    return 0;
  });
}

async function tokenCreate(config: Config, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { name: { type: 'string' }, scopes: { type: 'string' } } });
  if (!values.name || !values.scopes) throw new UsageError('token create needs --name and --scopes (audit:write and/or audit:read, comma-separated)');
  const scopes = values.scopes.split(',').map((s) => s.trim());
  const bad = scopes.find((s) => !SCOPES.includes(s as Scope));
  if (bad) throw new UsageError(`unknown scope '${bad}' (use ${SCOPES.join(', ')})`);
  return withCore(config, async (core) => {
    const { record, token } = await core.tokens.create(values.name!, scopes as Scope[], null);
    say(`API token '${record.name}' (${record.scopes.join(', ')}) created; it is shown once:`);
    process.stdout.write(`${token}\n`);
    return 0;
  });
}

async function retentionRun(config: Config): Promise<number> {
  return withCore(config, async (core) => {
    const outcome = await buildScheduler(core).runNow('retention');
    if (outcome.status === 'busy') {
      say('Retention is running on another node right now; nothing done.');
      return 1;
    }
    if (outcome.status === 'failed') {
      say(`Retention failed: ${outcome.error}`);
      return 1;
    }
    const totals = outcome.totals ?? {};
    say(`Retention: removed ${totals.removed} entries recorded before ${totals.cutoff} (${totals.retention_days} days) in ${outcome.durationMs} ms.`);
    return 0;
  });
}

function sqlitePath(config: Config, command: string): string {
  if (!config.databaseUrl.startsWith('sqlite:')) {
    throw new UsageError(`${command} works on SQLite; for PostgreSQL use pg_dump/pg_restore as docs/operations.md describes`);
  }
  return resolve(config.databaseUrl.slice('sqlite:'.length));
}

async function backup(config: Config, args: string[]): Promise<number> {
  const [file] = args;
  if (!file) throw new UsageError('backup needs a destination FILE');
  const report = await backupSqlite(sqlitePath(config, 'backup'), resolve(file));
  say(`Backup written to ${report.file} (${report.bytes} bytes); chain verified: ${report.verification.checked} entries up to seq ${report.verification.to_seq ?? '-'}, head ${report.verification.head_hash}`);
  return 0;
}

async function restore(config: Config, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { force: { type: 'boolean' } }, allowPositionals: true });
  if (!positionals[0]) throw new UsageError('restore needs the backup FILE');
  const v = await restoreSqlite(resolve(positionals[0]), sqlitePath(config, 'restore'), values.force === true);
  say(`Restored ${v.checked} verified entries (head ${v.head_hash}) into ${sqlitePath(config, 'restore')}.`);
  return 0;
}

async function keysRotate(config: Config): Promise<number> {
  return withCore(config, async (core) => {
    const old = await core.signingKeys.current();
    const fresh = await core.signingKeys.rotate();
    await core.recorder.record({
      action: 'audit.key.rotated',
      actor: { type: 'system', id: 'cli', name: 'trailmark cli' },
      resource: { type: 'signing_key', id: fresh.keyId, name: fresh.keyId },
      details: { old_key_id: old.keyId, new_key_id: fresh.keyId, rotated_by: 'trailmark cli' },
    });
    say(`Signing key ${old.keyId} retired (still published, so its exports keep verifying); ${fresh.keyId} is current.`);
    process.stdout.write(`${fresh.keyId} ${fresh.publicKey}\n`);
    return 0;
  });
}

class UsageError extends Error {}

export async function main(argv: string[]): Promise<number> {
  const [command, sub, ...rest] = argv;
  try {
    if (command === 'verify' && sub !== undefined && !sub.startsWith('-')) {
      // Verifying a file needs no configuration or database.
      const { verifyExportCommand } = await import('./export/verify-export-cli.js');
      return await verifyExportCommand([sub, ...rest], (line) => void process.stdout.write(`${line}\n`));
    }
    const config = loadConfig();
    switch (command) {
      case 'start':
        await start(config);
        return -1;
      case 'verify':
        return await verifyStore(config);
      case 'user':
        if (sub === 'create') return await userCreate(config, rest);
        break;
      case 'token':
        if (sub === 'create') return await tokenCreate(config, rest);
        break;
      case 'keys':
        if (sub === 'rotate') return await keysRotate(config);
        break;
      case 'backup':
        return await backup(config, [sub, ...rest].filter((a): a is string => a !== undefined));
      case 'restore':
        return await restore(config, [sub, ...rest].filter((a): a is string => a !== undefined));
      case 'retention':
        if (sub === 'run') return await retentionRun(config);
        break;
      case undefined:
      case 'help':
      case '--help':
        say(USAGE);
        return command === undefined ? 2 : 0;
    }
    say(USAGE);
    return 2;
  } catch (err) {
    if (err instanceof ConfigError || err instanceof UsageError) say(err.message);
    else if (err instanceof AppError) say(`${err.code}: ${err.message}`);
    else say(`error: ${err instanceof Error ? err.message : String(err)}`);
    return err instanceof UsageError ? 2 : 1;
  }
}

const code = await main(process.argv.slice(2));
if (code >= 0) process.exitCode = code;
