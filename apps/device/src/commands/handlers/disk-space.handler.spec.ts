import { CommandType } from '@mosaic/protocol';
import { strictFake } from '../../../../../test/support/strict-fake';
import { SystemInfoService } from '../../system/system-info.service';
import { DiskSpaceHandler } from './disk-space.handler';

describe('DiskSpaceHandler', () => {
  it('handles SystemCommand.diskSpace with { paths } from SystemInfoService.diskSpace', async () => {
    const paths = [{ path: '/apps', totalBytes: 10, freeBytes: 5, availableBytes: 4 }];
    const handler = new DiskSpaceHandler(strictFake<SystemInfoService>({ diskSpace: async () => paths }, 'SystemInfoService'));
    expect(handler.type).toBe(CommandType.DiskSpace);
    await expect(handler.execute()).resolves.toEqual({ paths });
  });
});
