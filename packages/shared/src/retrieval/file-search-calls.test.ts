import { describe, expect, it } from 'vitest';
import { citationMarker, fileCitations, toFileSearchToolCall } from './file-search-calls.js';

describe('fileCitations', () => {
  const sources = new Map([
    [citationMarker(0, 0), 'file_a'],
    [citationMarker(0, 1), 'file_b'],
  ]);

  it('annotates each known marker with its file and where it stands in the text', () => {
    const text = `Résumé ✓ first ${citationMarker(0, 1)} then ${citationMarker(0, 0)}.`;
    const annotations = fileCitations(text, sources);
    expect(annotations.map((annotation) => annotation.file_citation.file_id)).toEqual(['file_b', 'file_a']);
    for (const annotation of annotations) {
      expect(text.slice(annotation.start_index, annotation.end_index)).toBe(annotation.text);
    }
  });

  it('leaves markers no result gave, and text without sources, unannotated', () => {
    expect(fileCitations(`made up ${citationMarker(3, 0)}`, sources)).toEqual([]);
    expect(fileCitations(citationMarker(0, 0), new Map())).toEqual([]);
  });
});

describe('toFileSearchToolCall', () => {
  const output = JSON.stringify({
    ranking_options: { ranker: 'default_2024_08_21', score_threshold: 0.2 },
    results: [
      { citation: citationMarker(0, 0), file_id: 'file_a', file_name: 'a.md', score: 0.9, content: 'A' },
    ],
  });
  const call = (value: string | null) => ({
    id: 'call_1',
    type: 'function' as const,
    function: { name: 'file_search', arguments: '{"query":"a"}', output: value },
  });

  it('shows results with their content only when asked, and nothing before the call ran', () => {
    expect(toFileSearchToolCall(call(output), false).file_search.results).toEqual([
      { file_id: 'file_a', file_name: 'a.md', score: 0.9 },
    ]);
    expect(toFileSearchToolCall(call(output), true).file_search.results?.[0]?.content).toEqual([
      { type: 'text', text: 'A' },
    ]);
    expect(toFileSearchToolCall(call(null), true)).toEqual({
      id: 'call_1',
      type: 'file_search',
      file_search: {},
    });
  });

  it('shows a failed call as one without results', () => {
    const failed = toFileSearchToolCall(
      call('{"error":"No vector store is attached","code":"not_found"}'),
      true,
    );
    expect(failed.file_search.results).toEqual([]);
  });
});
