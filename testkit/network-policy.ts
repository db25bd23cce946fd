import path from 'node:path';
import { parseNetworkPolicy, type NetworkPolicy } from '../core/network-policy';
import { testEnv } from './env';

/** The test servers all listen on loopback, which production refuses unless told otherwise. */
export const TEST_ALLOWED_NETWORKS = '127.0.0.0/8,::1';

/** What the tests' workers and APIs allow: loopback, and the test Dovecot's LMTP socket directory. */
export const testNetworkEnv = (): Record<'MAILPULL_ALLOWED_NETWORKS' | 'MAILPULL_ALLOWED_SOCKET_DIRS', string> => ({
  MAILPULL_ALLOWED_NETWORKS: TEST_ALLOWED_NETWORKS,
  MAILPULL_ALLOWED_SOCKET_DIRS: path.join(testEnv.dovecotDir(), 'run'),
});

export const testNetworkPolicy = (): NetworkPolicy => {
  const env = testNetworkEnv();
  return parseNetworkPolicy({ allowedNetworks: env.MAILPULL_ALLOWED_NETWORKS, allowedSocketDirs: env.MAILPULL_ALLOWED_SOCKET_DIRS });
};

/** For tests that call the mail clients themselves, against servers on loopback. */
export const loopbackPolicy: NetworkPolicy = parseNetworkPolicy({ allowedNetworks: TEST_ALLOWED_NETWORKS });
