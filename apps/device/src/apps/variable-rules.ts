import { FieldProblem, isToolVariable } from '@mosaic/protocol';

/** The variables that would steer the device's Docker tools (see isToolVariable), per field. */
export function toolVariableProblems(variables: Record<string, string>): FieldProblem[] {
  return Object.keys(variables)
    .filter(isToolVariable)
    .map((name) => ({ field: `params.variables.${name}`, problems: ["steers the device's Docker tools and may not be set by an app"] }));
}
