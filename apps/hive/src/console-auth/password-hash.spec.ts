import { PASSWORD_SCRYPT, hashPassword, passwordMatches } from './password-hash';

// Small parameters keep the unit test fast; the format carries them, so verification follows.
const FAST = { N: 1024, r: 8, p: 1 };

describe('password hash', () => {
  it('uses scrypt with at least OWASP parameters by default', async () => {
    const stored = await hashPassword('a long enough password');
    const [prefix, n, r, p, salt, hash] = stored.split('$');
    expect([prefix, Number(n), Number(r), Number(p)]).toEqual(['scrypt', 131072, 8, 1]);
    expect(Buffer.from(salt, 'base64')).toHaveLength(PASSWORD_SCRYPT.saltBytes);
    expect(Buffer.from(hash, 'base64')).toHaveLength(32);
    expect(stored).not.toContain('a long enough password');
    expect(await passwordMatches('a long enough password', stored)).toBe(true);
  });

  it('matches the same password only, salted afresh each time', async () => {
    const one = await hashPassword('correct horse', FAST);
    const two = await hashPassword('correct horse', FAST);
    expect(one).not.toBe(two);
    expect(await passwordMatches('correct horse', one)).toBe(true);
    expect(await passwordMatches('correct horsE', one)).toBe(false);
    expect(await passwordMatches('', one)).toBe(false);
  });

  it('never matches a malformed stored hash', async () => {
    for (const stored of ['', 'plain', 'bcrypt$1$2$3$c2FsdA==$aGFzaA==', 'scrypt$1024$8$1$$']) {
      expect(await passwordMatches('x', stored)).toBe(false);
    }
  });
});
