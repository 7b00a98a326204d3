import { writeFileSync } from 'node:fs';
import { openapiDocument } from '../src/http/openapi-document.js';

// Regenerates the committed openapi.json; test/api/openapi.test.ts fails when it is stale.
writeFileSync(new URL('../openapi.json', import.meta.url), await openapiDocument());
console.log('openapi.json written');
