import { Type } from 'class-transformer';
import { IsBoolean, IsInt, IsObject, IsString, Length, Matches, Max, Min, ValidateNested } from 'class-validator';
import { IsOptionalNotNull, IsRecordOf, LIMITS, Patterns, nestedDto } from '@mosaic/protocol';

/** A Compose service name, as Compose itself accepts it. */
export const SERVICE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** One variable an app declares in app.json `variables`. */
export class VariableSpecDto {
  @IsString()
  @Length(1, 500)
  description!: string;

  /** The caller must give it; a required variable has no default. */
  @IsOptionalNotNull()
  @IsBoolean()
  required?: boolean;

  @IsOptionalNotNull()
  @IsString()
  @Length(0, LIMITS.variableValueChars)
  @Matches(/^[^\0]*$/, { message: 'default must not contain NUL' })
  default?: string;

  /** A regular expression the whole value must match (anchors are implied). */
  @IsOptionalNotNull()
  @IsString()
  @Length(1, 512)
  pattern?: string;

  /** Never shown by the REST API once given (passwords, tokens); it has no default. */
  @IsOptionalNotNull()
  @IsBoolean()
  secret?: boolean;
}

/** Which container port serves the app's UI. */
export class OpenSpecDto {
  @IsString()
  @Matches(SERVICE_NAME, { message: 'service must be a Compose service name' })
  service!: string;

  @IsInt()
  @Min(1)
  @Max(65535)
  port!: number;

  @IsOptionalNotNull()
  @IsString()
  @Length(1, 256)
  @Matches(/^\/[\x21-\x7e]*$/, { message: 'path must start with / and be printable ASCII without spaces' })
  path?: string;
}

/** catalog/<app>/app.json */
export class AppManifestDto {
  @IsString()
  @Matches(Patterns.appName, { message: 'name must match ^[a-z0-9][a-z0-9-]{0,62}$' })
  name!: string;

  @IsString()
  @Length(1, 80)
  title!: string;

  @IsString()
  @Length(1, 2000)
  description!: string;

  @IsString()
  @Matches(Patterns.appVersion, { message: 'version must match ^[A-Za-z0-9._-]{1,64}$' })
  version!: string;

  /** true: runs on images already on the device (mosaic-test/busybox); false: its images must be pulled. */
  @IsBoolean()
  offline!: boolean;

  @IsRecordOf({
    key: Patterns.variableName,
    keyHint: 'must match ^[A-Z][A-Z0-9_]{0,63}$',
    maxKeys: LIMITS.variables,
    value: nestedDto(VariableSpecDto),
  })
  variables!: Record<string, VariableSpecDto>;

  @IsOptionalNotNull()
  @IsObject()
  @ValidateNested()
  @Type(() => OpenSpecDto)
  open?: OpenSpecDto;
}

/** The plain JSON shapes, as served by GET /api/catalog. */
export interface VariableSpec {
  description: string;
  required?: boolean;
  default?: string;
  pattern?: string;
  secret?: boolean;
}

export interface AppManifest {
  name: string;
  title: string;
  description: string;
  version: string;
  offline: boolean;
  variables: Record<string, VariableSpec>;
  open?: { service: string; port: number; path?: string };
}
