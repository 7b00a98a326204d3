import type { SqlExecutor } from '../store/sql-database.js';
import type { SettingName, Settings } from './settings.definitions.js';
import { SETTING_NAMES, defaultSettings } from './settings.definitions.js';

/** Settings rows (`key`, JSON `value`); a missing row means the default. */
export class SettingsStore {
  constructor(private readonly db: SqlExecutor) {}

  async read(): Promise<Settings> {
    const rows = await this.db.all<{ key: string; value: string }>('SELECT key, value FROM settings');
    const settings = defaultSettings() as Record<string, unknown>;
    for (const row of rows) if ((SETTING_NAMES as string[]).includes(row.key)) settings[row.key] = JSON.parse(row.value) as unknown;
    return settings as Settings;
  }

  async write(tx: SqlExecutor, name: SettingName, value: unknown, now: number): Promise<void> {
    const json = JSON.stringify(value);
    const changed = await tx.run('UPDATE settings SET value = ?, updated_at = ? WHERE key = ?', [json, now, name]);
    if (changed === 0) await tx.run('INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)', [name, json, now]);
  }
}
