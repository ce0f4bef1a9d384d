import { readCookie } from './session-cookie';

describe('readCookie', () => {
  it('finds one cookie among others and refuses what is not a session id', () => {
    expect(readCookie('a=1; mosaic_session=abc_DEF-9; b=2', 'mosaic_session')).toBe('abc_DEF-9');
    expect(readCookie('mosaic_session_x=1', 'mosaic_session')).toBeUndefined();
    expect(readCookie('mosaic_session=a%20b', 'mosaic_session')).toBeUndefined();
    expect(readCookie(undefined, 'mosaic_session')).toBeUndefined();
    expect(readCookie('mosaic_session=', 'mosaic_session')).toBeUndefined();
  });
});
