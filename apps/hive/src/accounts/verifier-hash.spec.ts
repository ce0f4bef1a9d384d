import { randomBytes, timingSafeEqual } from 'node:crypto';
import { hashVerifier, verifierMatches } from './verifier-hash';

// Observe the real timingSafeEqual: node:crypto's exports cannot be spied on in place.
jest.mock('node:crypto', () => {
  const actual = jest.requireActual<typeof import('node:crypto')>('node:crypto');
  return { ...actual, timingSafeEqual: jest.fn(actual.timingSafeEqual) };
});

const verifier = () => randomBytes(32).toString('base64');

describe('verifier hash', () => {
  it('keeps a salted hash, not the verifier', () => {
    const v = verifier();
    const stored = hashVerifier(v);
    expect(stored.hash).not.toBe(v);
    expect(Buffer.from(stored.salt, 'base64')).toHaveLength(32);
    expect(Buffer.from(stored.hash, 'base64')).toHaveLength(32);
  });

  it('salts each hash afresh, so equal verifiers do not give equal hashes', () => {
    const v = verifier();
    expect(hashVerifier(v).hash).not.toBe(hashVerifier(v).hash);
  });

  it('matches the same verifier and nothing else', () => {
    const v = verifier();
    const stored = hashVerifier(v);
    expect(verifierMatches(v, stored)).toBe(true);
    expect(verifierMatches(verifier(), stored)).toBe(false);
    const flipped = Buffer.from(v, 'base64');
    flipped[31] ^= 1;
    expect(verifierMatches(flipped.toString('base64'), stored)).toBe(false);
  });

  it('compares in constant time with crypto.timingSafeEqual', () => {
    const compare = jest.mocked(timingSafeEqual);
    compare.mockClear();
    const v = verifier();
    expect(verifierMatches(v, hashVerifier(v))).toBe(true);
    expect(verifierMatches(verifier(), hashVerifier(v))).toBe(false);
    expect(compare).toHaveBeenCalledTimes(2);
  });
});
