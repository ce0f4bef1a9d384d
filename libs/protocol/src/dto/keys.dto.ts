import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsObject,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { IsProtocolUuid, Patterns } from './constraints';

export const KEY_ROLES = ['app', 'link'] as const;
export type KeyRole = (typeof KEY_ROLES)[number];

const ARMORED_PUBLIC = /^-----BEGIN PGP PUBLIC KEY BLOCK-----[\s\S]+-----END PGP PUBLIC KEY BLOCK-----\s*$/;
const ARMORED_PRIVATE = /^-----BEGIN PGP PRIVATE KEY BLOCK-----[\s\S]+-----END PGP PRIVATE KEY BLOCK-----\s*$/;

/** §3: one key of an instance; the private part is always passphrase-encrypted. */
export class KeyRecordDto {
  @IsIn(KEY_ROLES)
  role!: KeyRole;

  @Matches(Patterns.fingerprint, { message: 'fingerprint must be 40 lower-case hex digits' })
  fingerprint!: string;

  @IsString()
  @MaxLength(16384)
  @Matches(ARMORED_PUBLIC, { message: 'publicKey must be an ASCII-armored OpenPGP public key' })
  publicKey!: string;

  @IsString()
  @MaxLength(16384)
  @Matches(ARMORED_PRIVATE, { message: 'encryptedPrivateKey must be an ASCII-armored OpenPGP private key' })
  encryptedPrivateKey!: string;
}

/** §3: keys.put */
export class KeysPutDto {
  @IsProtocolUuid()
  instance!: string;

  /** The instance's two keys: one `app`, one `link`. */
  @IsArray()
  @ArrayMinSize(2)
  @ArrayMaxSize(2)
  @ArrayUnique((key: { role?: unknown }) => key?.role, { message: 'keys must be one app key and one link key' })
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => KeyRecordDto)
  keys!: KeyRecordDto[];
}

/** §3: keys.get */
export class KeysGetDto {
  @IsProtocolUuid()
  instance!: string;
}

/** §3: the most instances one keys.list answer names. */
export const KEYS_LIST_MAX = 1000;

/** §3: the `ok: true` answer to keys.list: instances whose keys a device may open ahead. */
export class KeysListAnswerDto {
  @IsIn([true])
  ok!: true;

  @IsArray()
  @ArrayMaxSize(KEYS_LIST_MAX)
  @ArrayUnique()
  @IsProtocolUuid({ each: true })
  instances!: string[];
}
