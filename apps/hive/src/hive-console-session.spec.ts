import { Logger } from '@nestjs/common';
import { AUTH_THROTTLE_RULES } from './auth/auth-throttle.service';
import { TEST_ADMIN_TOKEN, TestHive, startTestHive } from './testing/test-hive';

jest.setTimeout(60_000);

const PASSWORD = 'a long operator password';

/** A browser's view of the API: the session cookie it was given, and the CSRF token the page holds. */
class Browser {
  cookie = '';
  csrf = '';
  constructor(private readonly url: string) {}

  async send(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        ...(this.cookie && { cookie: this.cookie }),
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const setCookie = response.headers.get('set-cookie');
    if (setCookie) this.cookie = setCookie.split(';')[0];
    const text = await response.text();
    const json = text ? JSON.parse(text) : undefined;
    if (json?.csrfToken) this.csrf = json.csrfToken;
    return { status: response.status, body: json, setCookie };
  }
}

describe('Console sessions on the REST API', () => {
  let hive: TestHive;
  let browser: Browser;

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(async () => {
    hive = await startTestHive();
    browser = new Browser(hive.url);
  });
  afterEach(() => hive.close());

  const setup = (overrides: Record<string, string> = {}) =>
    browser.send('POST', '/api/session/setup', { adminToken: TEST_ADMIN_TOKEN, username: 'operator', password: PASSWORD, ...overrides });

  it('asks for the first run until the operator account exists, and only with the admin token', async () => {
    expect((await browser.send('GET', '/api/session')).body).toEqual({ setupRequired: true, username: null, csrfToken: null });
    const wrong = await setup({ adminToken: 'not-the-admin-token' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.details).toEqual([{ field: 'adminToken', problems: ['is not this Hive’s HIVE_ADMIN_TOKEN'] }]);
    const short = await setup({ password: 'short' });
    expect(short.status).toBe(400);
    expect(short.body.details[0].field).toBe('password');

    const created = await setup();
    expect(created.status).toBe(200);
    expect(created.body).toEqual({ setupRequired: false, username: 'operator', csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    expect(created.setCookie).toMatch(/^mosaic_session=[A-Za-z0-9_-]{43}; Max-Age=\d+; Path=\/; Expires=.*; HttpOnly; SameSite=Strict$/);
    expect((await setup()).body.code).toBe('ACCOUNT_EXISTS');
  });

  it('lets a session read, and change only with its CSRF token; the admin token still works alone', async () => {
    await setup();
    expect((await browser.send('GET', '/api/devices')).status).toBe(200);
    const forged = await browser.send('POST', '/api/devices', { name: 'attic' });
    expect(forged.status).toBe(403);
    expect(forged.body.code).toBe('CSRF_MISMATCH');
    const wrongToken = await browser.send('POST', '/api/devices', { name: 'attic' }, { 'x-csrf-token': 'x'.repeat(43) });
    expect(wrongToken.status).toBe(403);
    expect((await browser.send('POST', '/api/devices', { name: 'attic' }, { 'x-csrf-token': browser.csrf })).status).toBe(201);
    expect((await hive.api.post('/api/devices', { name: 'cellar' })).status).toBe(201);
    expect((await hive.api.get('/api/devices')).body.map((d: { name: string }) => d.name)).toEqual(['attic', 'cellar']);
  });

  it('signs out: the session stops working at once', async () => {
    await setup();
    const cookie = browser.cookie;
    expect((await browser.send('DELETE', '/api/session')).status).toBe(403);
    expect((await browser.send('DELETE', '/api/session', undefined, { 'x-csrf-token': browser.csrf })).status).toBe(204);
    browser.cookie = cookie;
    const after = await browser.send('GET', '/api/devices');
    expect(after.status).toBe(401);
    expect(after.body.message).toContain('expired or was signed out');
  });

  it('signs in with the password only, and rate-limits wrong ones', async () => {
    await setup();
    const other = new Browser(hive.url);
    const wrong = await other.send('POST', '/api/session', { username: 'operator', password: 'wrong password!' });
    expect(wrong).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED' } });
    expect((await other.send('POST', '/api/session', { username: 'nobody', password: PASSWORD })).status).toBe(401);
    const right = await other.send('POST', '/api/session', { username: 'operator', password: PASSWORD });
    expect(right.status).toBe(200);
    expect((await other.send('GET', '/api/session')).body).toEqual({
      setupRequired: false,
      username: 'operator',
      csrfToken: right.body.csrfToken,
    });

    const { limit } = AUTH_THROTTLE_RULES.loginPerAddress;
    for (let i = 2; i < limit; i++) await other.send('POST', '/api/session', { username: 'operator', password: 'wrong password!' });
    const limited = await other.send('POST', '/api/session', { username: 'operator', password: PASSWORD });
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('RATE_LIMITED');
  });

  it('marks the cookie Secure when the Hive is reached over HTTPS (HIVE_PUBLIC_URL)', async () => {
    await hive.close();
    hive = await startTestHive({ publicUrl: 'https://hive.example.net' });
    browser = new Browser(hive.url);
    expect((await setup()).setCookie).toMatch(/; Secure; SameSite=Strict$/);
  });

  it('creates a device without a name (it names itself when it connects) and renames it', async () => {
    const created = await hive.api.post('/api/devices', {});
    expect(created.body.name).toBe('');
    const renamed = await hive.api.request('PATCH', `/api/devices/${created.body.id}`, { name: 'garage' });
    expect(renamed).toMatchObject({ status: 200, body: { name: 'garage', health: { state: 'red' } } });
    const bad = await hive.api.request('PATCH', `/api/devices/${created.body.id}`, { name: '' });
    expect(bad.status).toBe(400);
  });
});
