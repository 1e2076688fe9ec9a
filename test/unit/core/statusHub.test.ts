import { silentLogger } from '../../../src/core/logger';
import { createStatusHub } from '../../../src/core/statusHub';

describe('status hub', () => {
  it('tells every listener in order; a throwing one does not stop the rest; removed ones hear nothing', () => {
    const hub = createStatusHub(silentLogger);
    const heard: string[] = [];
    hub.onStatus(() => {
      throw new Error('boom');
    });
    const off = hub.onStatus((s) => heard.push(`a:${s.kind}`));
    hub.onStatus((s) => heard.push(`b:${s.kind}`));
    hub.emit({ kind: 'connecting' });
    off();
    hub.emit({ kind: 'online' });
    expect(heard).toEqual(['a:connecting', 'b:connecting', 'b:online']);
  });
});
