import { readFileSync } from 'node:fs';

/** Trailmark's version, from package.json (shown on exports and in /docs). */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
