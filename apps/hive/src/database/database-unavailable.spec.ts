import { isDatabaseUnavailable } from './database-unavailable';

const withCode = (message: string, code: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(message), { code, ...extra });

describe('isDatabaseUnavailable', () => {
  it.each([
    ['a missing unix socket', withCode('connect ENOENT /tmp/pg/.s.PGSQL.5432', 'ENOENT', { syscall: 'connect' })],
    ['a refused TCP connection', withCode('connect ECONNREFUSED 10.0.0.5:5432', 'ECONNREFUSED', { syscall: 'connect' })],
    ['an administrator shutdown (57P01)', withCode('terminating connection due to administrator command', '57P01')],
    ['a server starting up (57P03)', withCode('the database system is starting up', '57P03')],
    ['too many connections (53300)', withCode('sorry, too many clients already', '53300')],
    ['a connection exception (08006)', withCode('connection failure', '08006')],
    ['a statement timeout (57014)', withCode('canceling statement due to statement timeout', '57014')],
    ['a connection that ended', new Error('Connection terminated unexpectedly')],
    ['a connect deadline', new Error('timeout exceeded when trying to connect')],
    ['a query deadline', new Error('Query read timeout')],
    ['a locked SQLite file', withCode('database is locked', 'SQLITE_BUSY')],
    ['an outage as the cause of another error', new Error('could not load the device', { cause: withCode('x', '57P01') })],
    [
      'an outage inside an AggregateError',
      new AggregateError([withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED', { syscall: 'connect' })], ''),
    ],
  ])('is true for %s', (_, err) => {
    expect(isDatabaseUnavailable(err)).toBe(true);
  });

  it.each([
    ['a unique violation', withCode('duplicate key value', '23505')],
    ['a syntax error', withCode('syntax error at or near "x"', '42601')],
    [
      'a missing file (not a connection)',
      withCode("ENOENT: no such file or directory, open '/catalog/x.yaml'", 'ENOENT', { syscall: 'open' }),
    ],
    ['a SQLite constraint', withCode('UNIQUE constraint failed', 'SQLITE_CONSTRAINT_UNIQUE')],
    ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['no error at all', undefined],
    ['a string', 'Connection terminated unexpectedly'],
  ])('is false for %s', (_, err) => {
    expect(isDatabaseUnavailable(err)).toBe(false);
  });
});
