import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';

/** One environment variable Trailmark reads: documented, defaulted (secrets never), parsed. */
interface Variable<T> {
  readonly name: string;
  readonly description: string;
  /** Shown in docs; `undefined` means "no default". */
  readonly defaultText?: string;
  /** Allowed values, for the docs. */
  readonly range?: string;
  parse(raw: string | undefined, env: NodeJS.ProcessEnv): T;
}

const MIN_SECRET_LENGTH = 32;

function intVar(name: string, description: string, def: number, min: number, max: number): Variable<number> {
  return {
    name, description, defaultText: String(def), range: `${min}–${max}`,
    parse(raw) {
      if (raw === undefined || raw === '') return def;
      const n = Number(raw);
      if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer from ${min} to ${max} (got '${raw}')`);
      return n;
    },
  };
}

function strVar(name: string, description: string, def: string): Variable<string> {
  return { name, description, defaultText: def, parse: (raw) => (raw === undefined || raw === '' ? def : raw) };
}

function boolVar(name: string, description: string, def: boolean): Variable<boolean> {
  return {
    name, description, defaultText: String(def), range: 'true / false',
    parse(raw) {
      if (raw === undefined || raw === '') return def;
      if (/^(1|true|yes)$/i.test(raw)) return true;
      if (/^(0|false|no)$/i.test(raw)) return false;
      throw new Error(`${name} must be true or false (got '${raw}')`);
    },
  };
}

/** Every variable, in the order the docs list them. */
export const VARIABLES = {
  nodeEnv: strVar('NODE_ENV', 'production makes SECRET_KEY mandatory; anything else is development.', 'development'),
  port: intVar('PORT', 'TCP port of the API and web UI.', 8080, 0, 65535),
  host: strVar('HOST', 'Interface to listen on.', '127.0.0.1'),
  databaseUrl: strVar('DATABASE_URL', 'sqlite:PATH (embedded) or postgres://user@host:port/db[?schema=NAME]. Migrations run at start.', 'sqlite:./data/trailmark.db'),
  dataDir: strVar('TRAILMARK_DATA_DIR', 'Folder for the development SECRET_KEY and other local state.', './data'),
  secretKey: {
    name: 'SECRET_KEY',
    description: `Signs export manifests (HMAC) and encrypts the signing key. At least ${MIN_SECRET_LENGTH} characters; required when NODE_ENV=production. In development one is generated once into the data folder.`,
    parse: (raw) => raw,
  } as Variable<string | undefined>,
  adminPassword: {
    name: 'TRAILMARK_ADMIN_PASSWORD',
    description: 'Password of the first admin (user `admin`), used only when no user exists yet. Without it a password is generated and printed once.',
    parse: (raw) => (raw === '' ? undefined : raw),
  } as Variable<string | undefined>,
  trustProxy: boolVar('TRUST_PROXY', 'Trust X-Forwarded-* headers (client IP, HTTPS) from a reverse proxy.', false),
  logLevel: strVar('LOG_LEVEL', 'Service log level (fatal, error, warn, info, debug, trace, silent).', 'info'),
  rateLimitLogin: intVar('RATE_LIMIT_LOGIN_PER_MINUTE', 'Sign-in attempts per client IP per minute (each node).', 20, 1, 100_000),
  rateLimitIngest: intVar('RATE_LIMIT_INGEST_PER_MINUTE', 'POST /api/audit/events requests per API token per minute (each node).', 600_000, 1, 100_000_000),
  rateLimitApi: intVar('RATE_LIMIT_API_PER_MINUTE', 'Requests per caller per minute on every other route (each node).', 1_200, 1, 10_000_000),
  checkpointIntervalSeconds: intVar('CHECKPOINT_INTERVAL_SECONDS', 'How often the chain head is signed (only when the log grew).', 300, 10, 86_400),
  archiveDir: {
    name: 'ARCHIVE_DIR',
    description: 'When set, retention first writes the entries it removes as a signed CSV and PDF per UTC day into this folder, verifies them, and only then removes them. Set by the operator, not through the API, because it names a path on the server.',
    parse: (raw) => (raw === undefined || raw === '' ? undefined : raw),
  } as Variable<string | undefined>,
  metricsToken: {
    name: 'METRICS_TOKEN',
    description: 'Bearer token a Prometheus scraper sends to GET /metrics. Unset: only loopback clients may scrape.',
    parse: (raw) => (raw === undefined || raw === '' ? undefined : raw),
  } as Variable<string | undefined>,
  bodyLimitBytes: intVar('BODY_LIMIT_BYTES', 'Largest request body accepted; larger ones get 413.', 5 * 1024 * 1024, 1024, 100 * 1024 * 1024),
} as const;

export interface Config {
  readonly production: boolean;
  readonly port: number;
  readonly host: string;
  readonly databaseUrl: string;
  readonly dataDir: string;
  readonly secretKey: string;
  /** Where the secret came from, so start-up can warn about a generated one. */
  readonly secretKeySource: 'env' | 'generated' | 'data-dir';
  readonly adminPassword: string | undefined;
  readonly trustProxy: boolean;
  readonly logLevel: string;
  readonly bodyLimitBytes: number;
  readonly metricsToken: string | undefined;
  readonly checkpointIntervalMs: number;
  readonly archiveDir: string | undefined;
  readonly rateLimits: { loginPerMinute: number; ingestPerMinute: number; apiPerMinute: number };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses the environment once, reporting every bad variable together. In production a
 * missing or short SECRET_KEY stops start-up; in development a key is generated once into
 * the data folder (and the caller warns about it).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const read = <T>(v: Variable<T>): T | undefined => {
    try {
      return v.parse(env[v.name], env);
    } catch (err) {
      problems.push((err as Error).message);
      return undefined;
    }
  };
  const nodeEnv = read(VARIABLES.nodeEnv) ?? 'development';
  const production = nodeEnv === 'production';
  const dataDir = resolve(read(VARIABLES.dataDir) ?? './data');
  const cfg = {
    production,
    port: read(VARIABLES.port) ?? 8080,
    host: read(VARIABLES.host) ?? '127.0.0.1',
    databaseUrl: read(VARIABLES.databaseUrl) ?? '',
    dataDir,
    adminPassword: read(VARIABLES.adminPassword),
    trustProxy: read(VARIABLES.trustProxy) ?? false,
    logLevel: read(VARIABLES.logLevel) ?? 'info',
    bodyLimitBytes: read(VARIABLES.bodyLimitBytes) ?? 0,
    metricsToken: read(VARIABLES.metricsToken),
    archiveDir: ((dir) => (dir === undefined ? undefined : resolve(dir)))(read(VARIABLES.archiveDir)),
    checkpointIntervalMs: (read(VARIABLES.checkpointIntervalSeconds) ?? 300) * 1000,
    rateLimits: {
      loginPerMinute: read(VARIABLES.rateLimitLogin) ?? 0,
      ingestPerMinute: read(VARIABLES.rateLimitIngest) ?? 0,
      apiPerMinute: read(VARIABLES.rateLimitApi) ?? 0,
    },
  };
  if (!/^(fatal|error|warn|info|debug|trace|silent)$/.test(cfg.logLevel)) problems.push(`LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got '${cfg.logLevel}')`);
  let secretKey = env.SECRET_KEY;
  let secretKeySource: Config['secretKeySource'] = 'env';
  if (secretKey !== undefined && secretKey.length < MIN_SECRET_LENGTH) {
    problems.push(`SECRET_KEY must be at least ${MIN_SECRET_LENGTH} characters (it has ${secretKey.length})`);
  } else if (secretKey === undefined && production) {
    problems.push(`SECRET_KEY is required when NODE_ENV=production (at least ${MIN_SECRET_LENGTH} characters)`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  if (secretKey === undefined) ({ key: secretKey, source: secretKeySource } = developmentSecret(dataDir));
  return { ...cfg, secretKey, secretKeySource };
}

/** A development key kept in the data folder, so exports stay verifiable across restarts. */
function developmentSecret(dataDir: string): { key: string; source: 'generated' | 'data-dir' } {
  const file = join(dataDir, 'secret_key');
  if (existsSync(file)) return { key: readFileSync(file, 'utf8').trim(), source: 'data-dir' };
  mkdirSync(dirname(file), { recursive: true });
  const key = randomBytes(32).toString('base64url');
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return { key, source: 'generated' };
}
