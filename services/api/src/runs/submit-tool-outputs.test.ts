import { describe, expect, it } from 'vitest';
import { checkOutputsMatch, withOutputs } from './submit-tool-outputs.js';

describe('submitted tool outputs', () => {
  it('must answer every pending call exactly once, in any order', () => {
    expect(() =>
      checkOutputsMatch(['call_a', 'call_b'], [{ tool_call_id: 'call_b' }, { tool_call_id: 'call_a' }]),
    ).not.toThrow();
    expect(() => checkOutputsMatch(['call_a', 'call_b'], [{ tool_call_id: 'call_a' }])).toThrow(
      "Expected tool outputs for call_ids ['call_a', 'call_b'], got ['call_a']",
    );
    expect(() =>
      checkOutputsMatch(['call_a'], [{ tool_call_id: 'call_a' }, { tool_call_id: 'call_a' }]),
    ).toThrow("got ['call_a', 'call_a']");
    expect(() => checkOutputsMatch(['call_a'], [{ tool_call_id: 'call_x' }])).toThrow("got ['call_x']");
    expect(() => checkOutputsMatch(['call_a'], [])).toThrow('got []');
  });

  it('fill the outputs of the matching calls only', () => {
    const calls = [
      { id: 'call_a', type: 'function' as const, function: { name: 'f', arguments: '{}', output: null } },
      {
        id: 'call_b',
        type: 'function' as const,
        function: { name: 'g', arguments: '{}', output: 'earlier' },
      },
    ];
    expect(
      withOutputs(calls, [{ tool_call_id: 'call_a', output: 'x' }]).map((call) => call.function.output),
    ).toEqual(['x', 'earlier']);
    expect(withOutputs(calls, [{ tool_call_id: 'call_a' }])[0]?.function.output).toBe('');
  });
});
