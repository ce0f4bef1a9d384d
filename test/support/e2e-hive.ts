import { derivePassphraseVerifier } from '@mosaic/protocol';
import { TestHive, startTestHive } from '../../apps/hive/src/testing/test-hive';

export const E2E_PASSPHRASE = 'correct horse battery staple';

/** The reference Hive in-process on a free port, its account's passphrase set as a user would. */
export async function startE2eHive(dbPath: string, port?: number): Promise<TestHive> {
  const hive = await startTestHive({ dbPath, ...(port ? { port } : {}) });
  const { body } = await hive.api.get('/api/account');
  if (!body.passphrase.set) {
    await hive.api.put('/api/account/passphrase', { verifier: await derivePassphraseVerifier(E2E_PASSPHRASE, body.passphrase.salt) });
  }
  return hive;
}
