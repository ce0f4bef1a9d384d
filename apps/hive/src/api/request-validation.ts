import { ClassConstructor } from 'class-transformer';
import { FieldProblem, describeProblems, validatePayload } from '@mosaic/protocol';
import { HiveError, HiveErrorCode } from '../common/hive-error';

/** Checks a request body against its DTO (unknown fields refused) or throws a 400 naming each bad field. */
export function parseBody<T extends object>(dto: ClassConstructor<T>, body: unknown): T {
  const checked = validatePayload(dto, body);
  if (checked.ok) return checked.value;
  throw invalid(checked.details);
}

export const COMMAND_LIST_LIMIT = { default: 20, max: 100 } as const;

export function parseLimit(raw: unknown): number {
  if (raw === undefined) return COMMAND_LIST_LIMIT.default;
  const limit = typeof raw === 'string' && /^\d{1,4}$/.test(raw) ? Number(raw) : Number.NaN;
  if (limit >= 1 && limit <= COMMAND_LIST_LIMIT.max) return limit;
  throw invalid([{ field: 'limit', problems: [`must be a whole number from 1 to ${COMMAND_LIST_LIMIT.max}`] }]);
}

function invalid(details: FieldProblem[]): HiveError {
  return new HiveError(HiveErrorCode.INVALID_PARAMS, `The request is invalid: ${describeProblems(details)}`, details);
}
