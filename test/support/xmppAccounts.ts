/** Fresh XMPP accounts for tests: the helper lives with the benchmarks, which need it too. */
export { hostPort, registerXmppAccount } from '../../src/bench/xmppAccounts';
