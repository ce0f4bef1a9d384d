import { FieldProblem, Validated, isReservedVariable } from '@mosaic/protocol';
import { wholeMatch } from './app-commands';
import { VariableSpec } from './catalog-manifest.dto';

/**
 * The variables of one install: what the caller gave, checked against the app's declaration
 * (unknown and reserved names refused, required ones present, patterns matched), then the
 * defaults of what was not given. Fields are named as in the REST body (`variables.NAME`).
 */
export function resolveAppVariables(
  declared: Record<string, VariableSpec>,
  given: Record<string, string>,
): Validated<Record<string, string>> {
  const details: FieldProblem[] = [];
  const bad = (name: string, problem: string) => details.push({ field: `variables.${name}`, problems: [problem] });
  for (const [name, value] of Object.entries(given)) {
    const spec = Object.hasOwn(declared, name) ? declared[name] : undefined;
    if (isReservedVariable(name)) bad(name, 'is reserved: the device sets it');
    else if (!spec)
      bad(name, `is not a variable of this app${Object.keys(declared).length ? ` (it has: ${Object.keys(declared).join(', ')})` : ''}`);
    else if (spec.pattern !== undefined && !wholeMatch(spec.pattern, value)) bad(name, `must match ${spec.pattern}`);
  }
  const variables: Record<string, string> = {};
  for (const [name, spec] of Object.entries(declared)) {
    const value = given[name] ?? spec.default;
    if (value !== undefined) variables[name] = value;
    else if (spec.required) bad(name, 'is required');
  }
  return details.length ? { ok: false, details } : { ok: true, value: variables };
}

/** The variables the REST API may show: secret ones are left out. */
export function publicVariables(variables: Record<string, string>, secret: Iterable<string>): Record<string, string> {
  const hidden = new Set(secret);
  return Object.fromEntries(Object.entries(variables).filter(([name]) => !hidden.has(name)));
}
