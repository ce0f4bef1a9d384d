import { createHash } from 'node:crypto';
import { generateDeviceToken, hashDeviceToken } from './device-token';

describe('device tokens', () => {
  it('are 32 random bytes in base64url', () => {
    const token = generateDeviceToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(generateDeviceToken()).not.toBe(token);
  });

  it('are stored as their SHA-256, never in clear', () => {
    const token = generateDeviceToken();
    const hash = hashDeviceToken(token);
    expect(hash).toBe(createHash('sha256').update(token).digest('hex'));
    expect(hash).not.toContain(token);
    expect(hashDeviceToken(token)).toBe(hash);
    expect(hashDeviceToken(generateDeviceToken())).not.toBe(hash);
  });
});
