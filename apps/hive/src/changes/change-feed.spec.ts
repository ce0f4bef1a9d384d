import { Logger } from '@nestjs/common';
import { Change, ChangeFeed } from './change-feed';

describe('ChangeFeed', () => {
  beforeAll(() => Logger.overrideLogger(false));

  it('tells every listener, keeps going past a failing one, and stops telling one that unsubscribed', () => {
    const feed = new ChangeFeed();
    const heard: Change[] = [];
    feed.subscribe(() => {
      throw new Error('broken listener');
    });
    const stop = feed.subscribe((change) => heard.push(change));
    feed.publish('devices', 'd1');
    feed.publish('settings');
    stop();
    feed.publish('apps', 'i1');
    expect(heard).toEqual([{ topic: 'devices', id: 'd1' }, { topic: 'settings' }]);
  });
});
