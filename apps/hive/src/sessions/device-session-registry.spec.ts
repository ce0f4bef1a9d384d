import { Logger } from '@nestjs/common';
import { DeviceConnection } from './device-connection';
import { DeviceSessionRegistry } from './device-session-registry';

/** A connection that only records being disconnected; sending to it is a test failure. */
class RecordingConnection implements DeviceConnection {
  disconnects = 0;
  constructor(
    readonly connectionId: string,
    readonly deviceId: string,
  ) {}
  emitWithAck(): Promise<unknown> {
    throw new Error(`nothing should be sent to ${this.connectionId}`);
  }
  disconnect(): void {
    this.disconnects++;
  }
}

describe('DeviceSessionRegistry', () => {
  let sessions: DeviceSessionRegistry;

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => (sessions = new DeviceSessionRegistry()));

  it('is online once connected and authenticated only after the proof', () => {
    const connection = new RecordingConnection('c1', 'd1');
    expect(sessions.status('d1')).toEqual({ online: false, authenticated: false });
    sessions.add(connection);
    expect(sessions.status('d1')).toEqual({ online: true, authenticated: false });
    expect(sessions.authenticatedConnection('d1')).toBeUndefined();
    sessions.authenticate(connection);
    expect(sessions.status('d1')).toEqual({ online: true, authenticated: true });
    expect(sessions.authenticatedConnection('d1')).toBe(connection);
  });

  it('replaces and disconnects the older connection when a newer one authenticates', () => {
    const older = new RecordingConnection('c1', 'd1');
    const newer = new RecordingConnection('c2', 'd1');
    sessions.add(older);
    sessions.authenticate(older);
    sessions.add(newer);
    expect(sessions.authenticatedConnection('d1')).toBe(older);
    sessions.authenticate(newer);
    expect(older.disconnects).toBe(1);
    expect(newer.disconnects).toBe(0);
    expect(sessions.authenticatedConnection('d1')).toBe(newer);
  });

  it('keeps the newer connection when the older one reports its disconnect late', () => {
    const older = new RecordingConnection('c1', 'd1');
    const newer = new RecordingConnection('c2', 'd1');
    sessions.add(older);
    sessions.authenticate(older);
    sessions.add(newer);
    sessions.authenticate(newer);
    sessions.remove(older);
    expect(sessions.authenticatedConnection('d1')).toBe(newer);
  });

  it('forgets a device when its last connection goes', () => {
    const connection = new RecordingConnection('c1', 'd1');
    sessions.add(connection);
    sessions.authenticate(connection);
    sessions.remove(connection);
    expect(sessions.status('d1')).toEqual({ online: false, authenticated: false });
  });

  it('disconnects every connection of a revoked device and no other', () => {
    const a = new RecordingConnection('c1', 'd1');
    const b = new RecordingConnection('c2', 'd1');
    const other = new RecordingConnection('c3', 'd2');
    for (const c of [a, b, other]) sessions.add(c);
    sessions.authenticate(a);
    sessions.disconnectDevice('d1');
    expect([a.disconnects, b.disconnects, other.disconnects]).toEqual([1, 1, 0]);
    expect(sessions.status('d1')).toEqual({ online: false, authenticated: false });
    expect(sessions.status('d2').online).toBe(true);
  });

  it('tells its listeners about every accepted proof, until they stop listening', () => {
    const heard: string[] = [];
    const stop = sessions.onAuthenticated((deviceId) => heard.push(deviceId));
    const first = new RecordingConnection('c1', 'd1');
    const stranger = new RecordingConnection('c2', 'd2');
    sessions.add(first);
    sessions.authenticate(first);
    sessions.authenticate(stranger); // never added: not a proof the registry accepts
    stop();
    const again = new RecordingConnection('c3', 'd1');
    sessions.add(again);
    sessions.authenticate(again);
    expect(heard).toEqual(['d1']);
  });
});
