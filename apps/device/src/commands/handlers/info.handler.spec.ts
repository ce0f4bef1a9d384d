import { CommandType } from '@mosaic/protocol';
import { strictFake } from '../../../../../test/support/strict-fake';
import { SystemInfoService } from '../../system/system-info.service';
import { InfoHandler } from './info.handler';

describe('InfoHandler', () => {
  it('handles SystemCommand.info with SystemInfoService.info', async () => {
    const info = {
      hostname: 'nas',
      os: 'Linux',
      arch: 'x64',
      cpus: 2,
      memoryBytes: 1,
      deviceVersion: '0.1.0',
      dockerVersion: '27.0.0',
      composeVersion: '2.29.0',
      storagePluginVersion: 'not installed',
    };
    const handler = new InfoHandler(strictFake<SystemInfoService>({ info: async () => info }, 'SystemInfoService'));
    expect(handler.type).toBe(CommandType.Info);
    await expect(handler.execute()).resolves.toEqual(info);
  });
});
