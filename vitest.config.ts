import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    globalSetup: ['test/build.global-setup.ts'],
    // Namespace and VM tests share host-wide resources (netns names, bridges): run files one at a time.
    fileParallelism: false,
    // Generous: namespace tests start real processes, and CI machines are sometimes slow.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
