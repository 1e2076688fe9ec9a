/**
 * Two tiers, one suffix each (STYLE §9): unit = *.test.ts, integration = *.int.test.ts.
 * Time limits are generous on purpose: a test waits for a condition, and a busy 2-core machine
 * (Argon2id derivations, generated histories) must never turn a slow pass into a failure. Speed
 * is measured by `npm run bench`, never by a test's time limit.
 */
const esm = ['@xmpp', 'ltx'];
const common = {
  preset: 'ts-jest/presets/js-with-ts',
  testEnvironment: 'node',
  transform: {
    '^.+\\.[tj]sx?$': [
      'ts-jest',
      { tsconfig: { allowJs: true, isolatedModules: true, module: 'commonjs', esModuleInterop: true } },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esm.join('|')})/)`],
};
module.exports = {
  testTimeout: 60_000, // a global option: jest ignores it inside a project
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['\\.int\\.test\\.ts$'],
    },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/**/*.int.test.ts'] },
  ],
};
