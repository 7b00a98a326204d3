import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VARIABLES } from '../../src/config.js';
import { withConfigReference } from '../../src/operations/config-reference.js';
import { SETTING_NAMES } from '../../src/settings/settings.definitions.js';

describe('docs/operations.md', () => {
  const doc = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');

  it('carries the configuration reference generated from the config module (npm run docs:config)', () => {
    expect(withConfigReference(doc)).toBe(doc);
  });

  it('names every environment variable and setting', () => {
    for (const v of Object.values(VARIABLES)) expect(doc).toContain(`\`${v.name}\``);
    for (const s of SETTING_NAMES) expect(doc).toContain(`\`${s}\``);
  });
});
