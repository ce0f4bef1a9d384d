import { PresenceMessage, RemotePresence } from './remote-presence';

const update = (from: string, seq: number, devices: PresenceMessage['devices']): PresenceMessage => ({ from, seq, snapshot: false, devices });
const snapshot = (from: string, seq: number, devices: PresenceMessage['devices']): PresenceMessage => ({ from, seq, snapshot: true, devices });

describe('RemotePresence', () => {
  let presence: RemotePresence;
  beforeEach(() => {
    presence = new RemotePresence();
    // P2 is known from its first sync request (a process that just started: nothing sent yet).
    expect(presence.beat('p2', 0, 0).needSync).toBe(false);
  });

  it('knows the devices of another process from its updates, and which of them proved the passphrase', () => {
    expect(presence.update(update('p2', 1, { d1: { open: 1, auth: null } }), 1)).toEqual({ changed: ['d1'], proved: [], needSync: false });
    expect(presence.status('d1')).toEqual({ online: true, authenticated: false });
    expect(presence.update(update('p2', 2, { d1: { open: 1, auth: 'c1' } }), 2)).toEqual({ changed: ['d1'], proved: ['d1'], needSync: false });
    expect(presence.status('d1')).toEqual({ online: true, authenticated: true });
    // A newer connection that proved on the same process is a new proof.
    expect(presence.update(update('p2', 3, { d1: { open: 1, auth: 'c2' } }), 3).proved).toEqual(['d1']);
    presence.update(update('p2', 4, { d1: { open: 0, auth: null } }), 4);
    expect(presence.status('d1')).toEqual({ online: false, authenticated: false });
  });

  it('never lets an older message overwrite a newer one that overtook it', () => {
    presence.update(update('p2', 2, { d1: { open: 0, auth: null } }), 1);
    expect(presence.update(update('p2', 1, { d1: { open: 1, auth: 'c1' } }), 1)).toEqual({ changed: [], proved: [], needSync: false });
    expect(presence.status('d1').online).toBe(false);
  });

  it('asks for a snapshot when a gap is still open a whole beat later, not for a message merely late', () => {
    presence.update(update('p2', 1, { d1: { open: 1, auth: 'c1' } }), 1);
    presence.update(update('p2', 3, { d3: { open: 1, auth: null } }), 2); // 2 is late, or lost
    expect(presence.beat('p2', 3, 3).needSync).toBe(false); // one beat: it may still come
    expect(presence.beat('p2', 3, 4).needSync).toBe(true); // a beat later it has not
    presence.update(update('p2', 2, { d2: { open: 1, auth: null } }), 5);
    expect(presence.beat('p2', 3, 6).needSync).toBe(false);
  });

  it('applies a snapshot under the newer updates it crossed, and forgets what the snapshot no longer has', () => {
    presence.update(update('p2', 1, { gone: { open: 1, auth: null } }), 1);
    presence.update(update('p2', 5, { newer: { open: 1, auth: 'c5' } }), 2);
    const outcome = presence.update(snapshot('p2', 4, { kept: { open: 1, auth: 'c3', seq: 3 }, newer: { open: 0, auth: null, seq: 2 } }), 3);
    expect(outcome.changed.sort()).toEqual(['gone', 'kept']);
    expect(presence.status('gone').online).toBe(false);
    expect(presence.status('kept').authenticated).toBe(true);
    expect(presence.status('newer').authenticated).toBe(true);
    expect(outcome.needSync).toBe(false);
  });

  it('asks a process it never heard of for its snapshot', () => {
    expect(presence.update(update('p3', 7, { d7: { open: 1, auth: null } }), 1).needSync).toBe(true);
    expect(presence.beat('p4', 3, 1).needSync).toBe(true);
  });

  it('counts out a process unheard for the timeout, or that said goodbye, and ignores what it sends later', () => {
    presence.update(update('p2', 1, { d1: { open: 1, auth: 'c1' } }), 1_000);
    presence.update(update('p3', 1, { d3: { open: 1, auth: 'c3' } }), 1_000);
    presence.beat('p3', 1, 9_000);
    expect(presence.expire(10_500, 10_000)).toEqual([]);
    expect(presence.expire(12_000, 10_000)).toEqual(['d1']);
    expect(presence.status('d1').online).toBe(false);
    expect(presence.status('d3').online).toBe(true);
    expect(presence.bye('p3')).toEqual(['d3']);
    expect(presence.update(update('p3', 2, { d3: { open: 1, auth: 'c3' } }), 13_000)).toEqual({ changed: [], proved: [], needSync: false });
    expect(presence.status('d3').online).toBe(false);
    expect(presence.peerCount).toBe(0);
  });

  it('is online when any process holds the device', () => {
    presence.update(update('p2', 1, { d1: { open: 1, auth: null } }), 1);
    presence.update(update('p3', 1, { d1: { open: 1, auth: 'c9' } }), 1);
    expect(presence.status('d1')).toEqual({ online: true, authenticated: true });
    presence.update(update('p3', 2, { d1: { open: 0, auth: null } }), 2);
    expect(presence.status('d1')).toEqual({ online: true, authenticated: false });
  });
});
