import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What `mosaic login` keeps: where the Hive is and its admin token. */
export interface Credentials {
  hive: string;
  token: string;
}

export class CredentialsError extends Error {}

/**
 * The token in a file of its own under the user's config folder: the folder 0700, the file 0600,
 * written whole (a temporary file renamed). A file others may read is refused, as ssh does.
 */
export class CredentialStore {
  readonly file: string;

  constructor(readonly dir: string) {
    this.file = join(dir, 'credentials.json');
  }

  read(): Credentials {
    let mode: number;
    try {
      mode = statSync(this.file).mode;
    } catch {
      throw new CredentialsError(`Not logged in (no ${this.file}): run mosaic login first.`);
    }
    if (mode & 0o077) throw new CredentialsError(`${this.file} may be read by others (mode ${(mode & 0o777).toString(8)}): chmod 600 it, or log in again.`);
    const value = JSON.parse(readFileSync(this.file, 'utf8')) as Partial<Credentials>;
    if (typeof value.hive !== 'string' || typeof value.token !== 'string') throw new CredentialsError(`${this.file} is not what mosaic login writes: log in again.`);
    return { hive: value.hive, token: value.token };
  }

  write(credentials: Credentials): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    chmodSync(this.dir, 0o700);
    const temp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify(credentials)}\n`, { mode: 0o600 });
    renameSync(temp, this.file);
  }

  remove(): boolean {
    try {
      rmSync(this.file);
      return true;
    } catch {
      return false;
    }
  }
}
