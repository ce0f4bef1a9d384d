import { GraphJson, importCycles, moduleImports } from './module-graph';

function graph(imports: Array<[string, string]>, extra: GraphJson['edges'] = {}, globals: string[] = []): GraphJson {
  const edges: GraphJson['edges'] = { ...extra };
  const nodes: GraphJson['nodes'] = Object.fromEntries(globals.map((g) => [`id-${g}`, { label: g, metadata: { type: 'module', global: true } }]));
  imports.forEach(([from, to], i) => {
    edges[`e${i}`] = { source: `id-${from}`, target: `id-${to}`, metadata: { type: 'module-to-module', sourceModuleName: from, targetModuleName: to } };
  });
  return { nodes, edges };
}

describe('module graph', () => {
  it('reads only module-to-module edges, by module name', () => {
    const imports = moduleImports(
      graph([['Apps', 'Docker']], {
        c: { source: 'x', target: 'y', metadata: { type: 'class-to-class', sourceModuleName: 'Docker', targetModuleName: 'Apps' } },
      }),
    );
    expect([...imports.entries()].map(([k, v]) => [k, [...v]])).toEqual([['Apps', ['Docker']]]);
  });

  it('leaves out the links Nest makes from every module to the global ones', () => {
    const imports = moduleImports(graph([['Device', 'Config'], ['Config', 'Common'], ['Common', 'Config'], ['Device', 'Hive']], {}, ['Config', 'Common']));
    expect([...imports.entries()].map(([k, v]) => [k, [...v]])).toEqual([['Device', ['Hive']]]);
    expect(importCycles(imports)).toEqual([]);
  });

  it('finds no cycle in a layered graph with shared leaves', () => {
    const imports = moduleImports(graph([['Device', 'Commands'], ['Device', 'Telemetry'], ['Commands', 'Hive'], ['Telemetry', 'Hive'], ['Commands', 'Apps'], ['Apps', 'Hive']]));
    expect(importCycles(imports)).toEqual([]);
  });

  it('names the modules of a cycle, the first repeated last', () => {
    const imports = moduleImports(graph([['Device', 'Apps'], ['Apps', 'Storage'], ['Storage', 'Keystore'], ['Keystore', 'Apps']]));
    expect(importCycles(imports)).toEqual([['Apps', 'Storage', 'Keystore', 'Apps']]);
  });

  it('finds a module that imports itself', () => {
    expect(importCycles(moduleImports(graph([['Hive', 'Hive']])))).toEqual([['Hive', 'Hive']]);
  });
});
