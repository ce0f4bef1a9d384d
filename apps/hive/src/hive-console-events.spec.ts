import { Logger } from '@nestjs/common';
import { io, type Socket } from 'socket.io-client';
import { TEST_ADMIN_TOKEN, TestHive, startTestHive } from './testing/test-hive';

jest.setTimeout(30_000);

/** A Console page's socket: the browser sends its cookies and its page's origin with the upgrade. */
function consoleSocket(hive: TestHive, headers: Record<string, string>): Socket {
  return io(`${hive.url}/console`, { transports: ['websocket'], reconnection: false, extraHeaders: headers, forceNew: true });
}

function connected(socket: Socket): Promise<{ ok: true } | { ok: false; code: string }> {
  return new Promise((resolve) => {
    socket.once('connect', () => resolve({ ok: true }));
    socket.once('connect_error', (err: Error & { data?: { code: string } }) => resolve({ ok: false, code: err.data?.code ?? err.message }));
  });
}

describe('the Console gateway (socket.io /console)', () => {
  let hive: TestHive;
  let cookie: string;
  const sockets: Socket[] = [];

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(async () => {
    hive = await startTestHive();
    const response = await fetch(`${hive.url}/api/session/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ adminToken: TEST_ADMIN_TOKEN, username: 'operator', password: 'a long operator password' }),
    });
    cookie = response.headers.get('set-cookie')!.split(';')[0];
  });
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.disconnect();
    await hive.close();
  });

  const open = (headers: Record<string, string>) => {
    const socket = consoleSocket(hive, headers);
    sockets.push(socket);
    return socket;
  };

  it('refuses a connection without a session, or from another origin', async () => {
    expect(await connected(open({ origin: hive.url }))).toEqual({ ok: false, code: 'UNAUTHORIZED' });
    expect(await connected(open({ origin: 'https://evil.example', cookie }))).toEqual({ ok: false, code: 'UNAUTHORIZED' });
    expect(await connected(open({ cookie }))).toEqual({ ok: false, code: 'UNAUTHORIZED' });
  });

  it('pushes a change notice (topic and id, no data) when something changes, and ends a signed-out session', async () => {
    const socket = open({ origin: hive.url, cookie });
    expect(await connected(socket)).toEqual({ ok: true });
    const heard = new Promise((resolve) => socket.once('change', resolve));
    const created = await hive.api.post('/api/devices', { name: 'attic' });
    expect(await heard).toEqual({ topic: 'devices', id: created.body.id });

    const { csrfToken } = (await (await fetch(`${hive.url}/api/session`, { headers: { cookie } })).json()) as { csrfToken: string };
    await fetch(`${hive.url}/api/session`, { method: 'DELETE', headers: { cookie, 'x-csrf-token': csrfToken } });
    const ended = new Promise((resolve) => socket.once('session.ended', () => resolve('ended')));
    await hive.api.post('/api/devices', { name: 'cellar' });
    expect(await ended).toBe('ended');
  });
});
