import { Type } from 'typebox';
import type { TSchema } from 'typebox';

/** One setting: its default, its allowed values (as a schema) and what it does. */
interface SettingDefinition<T> {
  readonly default: T;
  readonly schema: TSchema;
  readonly description: string;
}

const int = (def: number, minimum: number, maximum: number, description: string): SettingDefinition<number> => ({
  default: def,
  schema: Type.Integer({ minimum, maximum, description: `${description} (${minimum}–${maximum}, default ${def})` }),
  description,
});
const bool = (def: boolean, description: string): SettingDefinition<boolean> => ({ default: def, schema: Type.Boolean({ description: `${description} (default ${def})` }), description });
const text = (def: string, maxLength: number, description: string): SettingDefinition<string> => ({
  default: def,
  schema: Type.String({ minLength: 1, maxLength, pattern: '^[^\\u0000-\\u001f\\u007f]+$', description: `${description} (default "${def}")` }),
  description,
});

/** Every runtime setting (stored in the database, changed through PUT /api/settings, audited). */
export const SETTING_DEFINITIONS = {
  audit_retention_days: int(90, 30, 365, 'Days audit entries are kept before retention removes them'),
  lockout_threshold: int(5, 3, 20, 'Failed sign-ins within the window that lock an account'),
  lockout_window_minutes: int(15, 1, 1440, 'Window in which failed sign-ins are counted'),
  lockout_duration_minutes: int(15, 1, 10080, 'How long a lock lasts unless an admin unlocks the account'),
  session_idle_minutes: int(30, 5, 1440, 'A session unused this long ends'),
  session_absolute_hours: int(12, 1, 720, 'A session ends this long after sign-in'),
  tenant_name: text('Trailmark', 128, 'Organisation name shown on exports'),
  auditors_may_export: bool(false, 'Whether the auditor role may export the audit log (admins always may)'),
  stdout_mirror: bool(true, 'Write every committed entry as one JSON line on stdout (for container log collectors)'),
} as const;

type Defs = typeof SETTING_DEFINITIONS;
export type SettingName = keyof Defs;
export type Settings = { -readonly [K in SettingName]: Defs[K]['default'] extends number ? number : Defs[K]['default'] extends boolean ? boolean : string };

export const SETTING_NAMES = Object.keys(SETTING_DEFINITIONS) as SettingName[];

export function defaultSettings(): Settings {
  return Object.fromEntries(SETTING_NAMES.map((k) => [k, SETTING_DEFINITIONS[k].default])) as Settings;
}

/** Request/response schemas derived from the definitions, so docs and validation agree. */
export const SettingsSchema = Type.Object(Object.fromEntries(SETTING_NAMES.map((k) => [k, SETTING_DEFINITIONS[k].schema])), { additionalProperties: false });
export const SettingsPatchSchema = Type.Object(Object.fromEntries(SETTING_NAMES.map((k) => [k, Type.Optional(SETTING_DEFINITIONS[k].schema)])), {
  additionalProperties: false,
  minProperties: 1,
});
