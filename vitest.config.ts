import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Native addons (onnxruntime, usearch) and real sockets behave best in forked workers.
    pool: 'forks',
    // The page tests poll a real browser; on a loaded 2-core machine (CI runs every file at once, the model
    // training tests among them) an answer can take longer than the default second.
    expect: { poll: { timeout: 10_000 } },
  },
});
