/** Two tiers, one suffix each (STYLE §9): unit = *.test.ts, integration = *.int.test.ts. */
const esm = ['@xmpp', 'ltx'];
const common = {
  preset: 'ts-jest/presets/js-with-ts',
  testEnvironment: 'node',
  transform: { '^.+\\.[tj]sx?$': ['ts-jest', { tsconfig: { allowJs: true, isolatedModules: true, module: 'commonjs', esModuleInterop: true } }] },
  transformIgnorePatterns: [`/node_modules/(?!(${esm.join('|')})/)`],
};
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/**/*.test.ts'], testPathIgnorePatterns: ['\\.int\\.test\\.ts$'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/**/*.int.test.ts'] },
  ],
};
