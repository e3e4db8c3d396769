import { defineConfig } from 'vitest/config'

/**
 * Timing tests (a login flood's effect on other requests, response-time enumeration) measure
 * latency: they run after every other file has finished, one file at a time, so the rest of the
 * suite does not share the two cores with them.
 */
const TIMING = ['test/login-flood.test.ts', 'test/enumeration.test.ts']

/** `npm run screenshots` (GALLEY_SCREENSHOTS=1) adds the dashboard's screenshot run; npm test never runs it. */
const SCREENSHOTS = process.env.GALLEY_SCREENSHOTS === '1'

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'main',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: TIMING,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: 'timing', include: TIMING, fileParallelism: false, sequence: { groupOrder: 1 } },
      },
      ...(SCREENSHOTS
        ? [
            {
              extends: true as const,
              test: { name: 'screenshots', include: ['test/admin-ui-screenshots.shots.ts'] },
            },
          ]
        : []),
    ],
  },
})
