// Makes `npx trailmark` work inside this checkout: npm links the bins of dependencies into
// node_modules/.bin, not the package's own, so prepare links it here.
import { chmodSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../node_modules/.bin/trailmark', import.meta.url));
mkdirSync(fileURLToPath(new URL('../node_modules/.bin/', import.meta.url)), { recursive: true });
rmSync(bin, { force: true });
symlinkSync('../../dist/cli.js', bin);
chmodSync(fileURLToPath(new URL('../dist/cli.js', import.meta.url)), 0o755);
