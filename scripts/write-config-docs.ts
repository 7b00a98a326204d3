import { readFileSync, writeFileSync } from 'node:fs';
import { withConfigReference } from '../src/operations/config-reference.js';

// Regenerates the configuration reference inside docs/operations.md.
const file = new URL('../docs/operations.md', import.meta.url);
writeFileSync(file, withConfigReference(readFileSync(file, 'utf8')));
console.log('docs/operations.md configuration reference written');
