/** The part of Nest's serialized graph (`SerializedGraph.toJSON()`) that names module imports. */
export interface GraphJson {
  nodes: Record<string, { label?: string; metadata?: { type?: string; global?: boolean } }>;
  edges: Record<string, { source: string; target: string; metadata: { type: string; sourceModuleName?: string; targetModuleName?: string } }>;
}

/**
 * The module imports of a graph as `name → names it imports`. Nest links every module to every
 * global one (config, clock, schedule, its core); those links are not imports and are left out.
 */
export function moduleImports(graph: GraphJson): Map<string, Set<string>> {
  const imports = new Map<string, Set<string>>();
  for (const edge of Object.values(graph.edges)) {
    if (edge.metadata.type !== 'module-to-module' || graph.nodes[edge.target]?.metadata?.global) continue;
    const from = edge.metadata.sourceModuleName ?? edge.source;
    const to = edge.metadata.targetModuleName ?? edge.target;
    if (!imports.has(from)) imports.set(from, new Set());
    imports.get(from)!.add(to);
  }
  return imports;
}

/** Every import cycle, each as the modules along it (first repeated last); empty when there is none. */
export function importCycles(imports: Map<string, Set<string>>): string[][] {
  const cycles: string[][] = [];
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (name: string): void => {
    const at = path.indexOf(name);
    if (at >= 0) {
      cycles.push([...path.slice(at), name]);
      return;
    }
    if (done.has(name)) return;
    path.push(name);
    for (const next of imports.get(name) ?? []) visit(next);
    path.pop();
    done.add(name);
  };
  for (const name of [...imports.keys()].sort()) visit(name);
  return cycles;
}
