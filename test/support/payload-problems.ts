import { FieldProblem, validatePayload } from '@mosaic/protocol';

type Dto = new (...args: any[]) => object;

/** What validatePayload says is wrong with `input`, field by field ([] when it passes). */
export function problems(dto: Dto, input: unknown): FieldProblem[] {
  const result = validatePayload(dto, input);
  return result.ok ? [] : result.details;
}

/** Just the names of the refused fields. */
export const badFields = (dto: Dto, input: unknown): string[] => problems(dto, input).map((d) => d.field);
