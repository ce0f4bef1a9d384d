import { Logger, LoggerService } from '@nestjs/common';
import * as openpgp from 'openpgp';
import { ErrorCode } from '@mosaic/protocol';
import { generateKey } from '../../../../test/support/storage-plugin';
import { KeyRegistry } from './key-registry.service';
import { OpenPgpKeyAdapter } from './openpgp-key.adapter';

/** Everything logged while a test runs. */
class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(message: unknown) {
    this.lines.push(String(message));
  }
  error(message: unknown) {
    this.lines.push(String(message));
  }
  warn(message: unknown) {
    this.lines.push(String(message));
  }
  debug(message: unknown) {
    this.lines.push(String(message));
  }
  verbose(message: unknown) {
    this.lines.push(String(message));
  }
}

describe('KeyRegistry', () => {
  const logger = new CapturingLogger();
  beforeAll(() => Logger.overrideLogger(logger));
  afterAll(() => Logger.overrideLogger(false));

  it('keeps the secret key packet under the fingerprint, and logs the fingerprint only', async () => {
    const key = await generateKey();
    const registry = new KeyRegistry(new OpenPgpKeyAdapter());
    await registry.register(key.fingerprint, key.privateKey);
    const expected = Buffer.from((await openpgp.readPrivateKey({ armoredKey: key.privateKey })).keyPacket.write());
    expect(registry.secretFor(key.fingerprint)).toEqual(expected);
    expect(registry.fingerprints()).toEqual([key.fingerprint]);
    expect(logger.lines.join('\n')).toContain(key.fingerprint);
    expect(logger.lines.join('\n')).not.toMatch(/PRIVATE|BEGIN PGP/);
  });

  it('refuses a key whose fingerprint is not the one given, and a protected key', async () => {
    const key = await generateKey();
    const other = await generateKey();
    const registry = new KeyRegistry(new OpenPgpKeyAdapter());
    await expect(registry.register(other.fingerprint, key.privateKey)).rejects.toMatchObject({ code: ErrorCode.INVALID_PARAMS });
    const locked = await openpgp.encryptKey({
      privateKey: await openpgp.readPrivateKey({ armoredKey: key.privateKey }),
      passphrase: 'secret phrase',
    });
    await expect(registry.register(key.fingerprint, locked.armor())).rejects.toMatchObject({
      code: ErrorCode.INVALID_PARAMS,
      message: expect.stringMatching(/protected/),
    });
    await expect(
      registry.register(key.fingerprint, '-----BEGIN PGP PRIVATE KEY BLOCK-----\nnope\n-----END PGP PRIVATE KEY BLOCK-----'),
    ).rejects.toMatchObject({
      code: ErrorCode.INVALID_PARAMS,
    });
    expect(registry.fingerprints()).toEqual([]);
  });

  it('forgets a key and wipes what it held', async () => {
    const key = await generateKey();
    const registry = new KeyRegistry(new OpenPgpKeyAdapter());
    await registry.register(key.fingerprint, key.privateKey);
    const held = registry.secretFor(key.fingerprint)!;
    expect(registry.unregister(key.fingerprint)).toBe(true);
    expect(held.every((b) => b === 0)).toBe(true);
    expect(registry.has(key.fingerprint)).toBe(false);
    expect(registry.unregister(key.fingerprint)).toBe(false);
  });
});
