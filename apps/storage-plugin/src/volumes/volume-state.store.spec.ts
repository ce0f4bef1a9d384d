import { Logger } from '@nestjs/common';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pluginConfig, pluginRoot } from '../../../../test/support/storage-plugin';
import { VolumeRecord } from './volume-record';
import { VolumeStateStore } from './volume-state.store';

function record(name: string, extra: Partial<VolumeRecord> = {}): VolumeRecord {
  return {
    name,
    instance: '3f0e8c1a-8a3b-4c5d-9e6f-0a1b2c3d4e5f',
    role: 'link',
    fingerprint: 'e'.repeat(40),
    writer: '11111111-2222-4333-8444-555555555555',
    createdAt: '2026-11-25T09:00:00.000Z',
    mounts: { abc: 2, def: 1 },
    lastReplicatedAt: '2026-11-25T10:00:00.000Z',
    replication: { state: 'error', code: 'REPLICATION_FAILED', error: 'connection refused' },
    isWriter: true,
    ...extra,
  };
}

describe('VolumeStateStore', () => {
  // The failures these tests provoke are logged as warnings; they are asserted, not shown.
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(true));

  const root = pluginRoot('state');
  afterAll(() => root.remove());

  it('reads back exactly what it wrote, in a file only its owner can read', () => {
    const config = pluginConfig(join(root.path, 'a'));
    const volumes = [record('v1'), record('v2', { lastReplicatedAt: null, mounts: {}, replication: { state: 'idle' }, isWriter: false })];
    new VolumeStateStore(config).save(volumes);
    expect(new VolumeStateStore(config).load()).toEqual(volumes);
    expect(statSync(join(config.dataDir, 'state.json')).mode & 0o777).toBe(0o600);
    expect(readdirSync(config.dataDir)).toEqual(['state.json']); // no temp file left over
  });

  it('starts empty without a file', () => {
    expect(new VolumeStateStore(pluginConfig(join(root.path, 'b'))).load()).toEqual([]);
  });

  it('sets a corrupt file aside instead of refusing to start', () => {
    const config = pluginConfig(join(root.path, 'c'));
    const store = new VolumeStateStore(config);
    store.save([record('v1')]);
    writeFileSync(store.path, '{"version":1,"volumes":[{"na');
    expect(store.load()).toEqual([]);
    const aside = readdirSync(config.dataDir).filter((f) => f.startsWith('state.json.corrupt-'));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(config.dataDir, aside[0]), 'utf8')).toContain('"na');
  });

  it('drops malformed records and keeps the rest', () => {
    const config = pluginConfig(join(root.path, 'd'));
    const store = new VolumeStateStore(config);
    store.save([record('v1')]);
    const state = JSON.parse(readFileSync(store.path, 'utf8'));
    state.volumes.push({ ...record('v2'), name: '../../etc' }, { name: 'v3' });
    writeFileSync(store.path, JSON.stringify(state));
    expect(store.load().map((v) => v.name)).toEqual(['v1']);
  });
});
