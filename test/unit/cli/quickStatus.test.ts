import { quickStatusArgs } from '../../../src/cli/quickStatus';

/** Only the plain forms of `fk status` skip commander; every other command line goes to it. */
describe('quickStatusArgs', () => {
  const argv = (...args: string[]): string[] => ['node', 'fk', ...args];

  it.each([
    [['status'], { json: false }],
    [['status', '--json'], { json: true }],
    [['--file', 'h.txt', 'status'], { file: 'h.txt', json: false }],
    [['--file', 'h.txt', 'status', '--json'], { file: 'h.txt', json: true }],
    [['--file', '', 'status'], { file: '', json: false }],
    [['--file', 'status', 'status'], { file: 'status', json: false }],
  ])('runs %j without commander', (args, options) => {
    expect(quickStatusArgs(argv(...args))).toEqual(options);
  });

  it.each([
    [[]],
    [['--file', 'h.txt']],
    [['--file=h.txt', 'status']],
    [['--file', '-h', 'status']],
    [['--file', '--', 'status']],
    [['--file', 'a\tb', 'status']],
    [['--file', 'a\x7fb', 'status']],
    [['status', '--help']],
    [['status', '-h']],
    [['status', '--json', '--json']],
    [['status', 'extra']],
    [['status', '--bogus']],
    [['--debug', 'status']],
    [['--user', 'a@b.cd', 'status']],
    [['--backend', 'h.txt', 'status']],
    [['--read-only', 'status']],
    [['--', 'status']],
    [['--version']],
    [['backlog', 'list']],
    [['Status']],
  ])('leaves %j to commander', (args) => {
    expect(quickStatusArgs(argv(...args))).toBeNull();
  });
});
