import { defineConfig } from 'vitest/config';
import FiguresReporter from './test/reliability/figures-reporter.js';

/**
 * `npm run test:reliability`: crash, multi-node, fail-closed, hostile-input, tamper and
 * access tests against real server processes (issue 8). Kept apart from `npm test` because
 * it takes minutes; `.ci/run` runs both.
 */
export default defineConfig({
  test: {
    include: ['test/reliability/**/*.test.ts'],
    allowOnly: !process.env.CI,
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default', new FiguresReporter()],
  },
});
