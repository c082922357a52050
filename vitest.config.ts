/**
 * Two projects, both run by `npm test`: `unit` (`*.unit.test.ts`: pure code, no Java, no DynamoDB Local,
 * starts at once) and `integration` (every other test file: one DynamoDB Local for the run, real HTTP
 * servers, the CLI and the bundles). `npx vitest run --project unit` runs the fast ones alone.
 */
import { configDefaults, defineConfig } from 'vitest/config';

const UNIT = 'test/**/*.unit.test.ts';

export default defineConfig({
  test: {
    setupFiles: ['test/setup/log-redaction.ts'],
    pool: 'forks',
    // CI also writes a JSON report, from which .ci/run prints a plain "N passed, N failed" line.
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: { json: '.ci/vitest-report.json' },
    testTimeout: 30_000,
    hookTimeout: 90_000,
    // Every log line is produced, then checked for secrets and kept off the console by the setup file.
    env: { POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'INFO' },
    projects: [
      { extends: true, test: { name: 'unit', include: [UNIT] } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          // Replacing the exclusions would drop vitest's own (node_modules of nested packages, e.g. test/clients/).
          exclude: [...configDefaults.exclude, UNIT],
          globalSetup: ['test/global-setup.ts'],
        },
      },
    ],
  },
});
