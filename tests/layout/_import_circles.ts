/**
 * The import circles between source files: the strongly connected components of the graph whose
 * nodes are files and whose edges are relative imports (static, re-export, side-effect, dynamic and
 * type-only alike: a type-only import still ties two files' meanings together, and counting it
 * costs nothing).
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";

/** The relative specifiers a file imports, statically or dynamically, type-only included. */
export function importsOf(text: string): string[] {
  const found: string[] = [];
  const patterns = [
    /(?:^|\n)\s*(?:import|export)\b[^;]*?\sfrom\s*["'](\.[^"']+)["']/g,
    /(?:^|\n)\s*import\s*["'](\.[^"']+)["']/g,
    /\bimport\(\s*["'`](\.[^"'`$]+)["'`]\s*\)/g,
  ];
  for (const re of patterns) for (const m of text.matchAll(re)) found.push(m[1]!);
  return found;
}

/** The file an import specifier of `from` names (a `.js` specifier names its `.ts` source). */
export function targetOf(from: string, spec: string): string {
  return resolve(dirname(from), spec.replace(/\.js$/, ".ts"));
}

/** The graph: each file to the files among `files` it imports. */
export function importGraph(files: readonly string[]): Map<string, string[]> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const to = importsOf(readFileSync(file, "utf8")).map((spec) => targetOf(file, spec));
    graph.set(file, [...new Set(to.filter((t) => known.has(t)))]);
  }
  return graph;
}

/**
 * Every circle of `graph`: its strongly connected components of more than one file, and any file
 * that imports itself (Tarjan's algorithm, iterative so that a deep chain cannot overflow the stack).
 */
export function importCircles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const circles: string[][] = [];
  let next = 0;
  for (const root of graph.keys()) {
    if (index.has(root)) continue;
    const work: Array<{ node: string; edge: number }> = [{ node: root, edge: 0 }];
    index.set(root, next);
    low.set(root, next++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const edges = graph.get(top.node) ?? [];
      if (top.edge < edges.length) {
        const to = edges[top.edge++]!;
        if (!index.has(to)) {
          index.set(to, next);
          low.set(to, next++);
          stack.push(to);
          onStack.add(to);
          work.push({ node: to, edge: 0 });
        } else if (onStack.has(to)) {
          low.set(top.node, Math.min(low.get(top.node)!, index.get(to)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(top.node)!));
      if (low.get(top.node) !== index.get(top.node)) continue;
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== top.node);
      const selfLoop = (graph.get(top.node) ?? []).includes(top.node);
      if (component.length > 1 || selfLoop) circles.push(component.sort());
    }
  }
  return circles;
}
