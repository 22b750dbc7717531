// Compares two V8 heap snapshots (before and after N SSE streams opened): what grew, by constructor, per stream.
// `npx tsx bench/heap.ts <before.heapsnapshot> <after.heapsnapshot> <N>`.
import { readFileSync } from 'node:fs';

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export interface HeapGroup {
  name: string;
  count: number;
  bytes: number;
}

/** Self size and count per node type and constructor name. */
export function groupHeap(file: string): Map<string, HeapGroup> {
  const heap = JSON.parse(readFileSync(file, 'utf8')) as HeapSnapshot;
  const fields = heap.snapshot.meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const types = heap.snapshot.meta.node_types[0];
  const groups = new Map<string, HeapGroup>();
  for (let index = 0; index < heap.nodes.length; index += width) {
    const type = types[heap.nodes[index + typeAt] ?? 0] ?? '?';
    const rawName = heap.strings[heap.nodes[index + nameAt] ?? 0] ?? '?';
    const name = type === 'object' || type === 'closure' ? `${type} ${rawName}` : `(${type})`;
    const group = groups.get(name) ?? { name, count: 0, bytes: 0 };
    group.count += 1;
    group.bytes += heap.nodes[index + sizeAt] ?? 0;
    groups.set(name, group);
  }
  return groups;
}

export function heapGrowth(before: string, after: string, top = 25): HeapGroup[] {
  const start = groupHeap(before);
  return [...groupHeap(after).values()]
    .map((group) => ({
      name: group.name,
      count: group.count - (start.get(group.name)?.count ?? 0),
      bytes: group.bytes - (start.get(group.name)?.bytes ?? 0),
    }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, top);
}

const [before, after, streams] = process.argv.slice(2);
if (before && after && streams) {
  const perStream = Number(streams);
  process.stdout.write('| grew (self size) | objects per stream | bytes per stream |\n|---|---:|---:|\n');
  for (const group of heapGrowth(before, after)) {
    process.stdout.write(
      `| ${group.name.slice(0, 80)} | ${(group.count / perStream).toFixed(2)} | ${Math.round(group.bytes / perStream)} |\n`,
    );
  }
}
