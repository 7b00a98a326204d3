import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './figures.js';

function mentions(dir: string, needle: string): boolean {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return false;
  }
  return entries.some((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return mentions(path, needle);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') && readFileSync(path, 'utf8').includes(needle);
  });
}

/**
 * Whether the export route (`GET /api/audit/export`, being finished elsewhere) is in the
 * sources: the export checks run once it is. The checks then also assert that a running
 * server really serves it, so a mention without a route fails rather than passing quietly.
 */
export const EXPORT_ROUTE_IN_SOURCES = mentions(join(ROOT, 'src', 'http'), 'audit/export') || mentions(join(ROOT, 'src', 'export'), 'audit/export');
