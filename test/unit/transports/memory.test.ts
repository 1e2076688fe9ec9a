import { createMemoryHub, createMemoryTransport } from '../../../src/transports/memory';
import { describeTransportContract } from '../../contract/transport.contract';

describeTransportContract('memory', async () => {
  const hub = createMemoryHub();
  return [createMemoryTransport(hub), createMemoryTransport(hub)];
});
