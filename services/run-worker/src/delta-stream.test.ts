import { describe, expect, it } from 'vitest';
import { DeltaStream } from './delta-stream.js';

function controlledSink() {
  const sent: string[] = [];
  const releases: Array<() => void> = [];
  const sink = (text: string) => {
    sent.push(text);
    return new Promise<void>((resolve) => releases.push(resolve));
  };
  return { sent, sink, releaseNext: () => releases.shift()?.() };
}

describe('DeltaStream', () => {
  it('sends the first delta at once and joins the ones that arrive while it is in flight', async () => {
    const { sent, sink, releaseNext } = controlledSink();
    const stream = new DeltaStream(sink, true);
    stream.push('Hello');
    expect(sent).toEqual(['Hello']);
    stream.push(' big');
    stream.push(' world');
    expect(sent).toEqual(['Hello']);
    releaseNext();
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toEqual(['Hello', ' big world']);
    releaseNext();
    await stream.flush();
    expect(sent.join('')).toBe('Hello big world');
  });

  it('sends the waiting text on flush without waiting for the append in flight', async () => {
    const { sent, sink, releaseNext } = controlledSink();
    const stream = new DeltaStream(sink, true);
    stream.push('Hello');
    stream.push(' world');
    const flushed = stream.flush();
    expect(sent).toEqual(['Hello', ' world']);
    let done = false;
    void flushed.then(() => {
      done = true;
    });
    releaseNext();
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).toBe(false);
    releaseNext();
    await flushed;
    expect(sent).toEqual(['Hello', ' world']);
  });

  it('sends every delta on its own when coalescing is off', async () => {
    const sent: string[] = [];
    const stream = new DeltaStream(async (text) => sent.push(text), false);
    for (const word of ['a', ' b', ' c']) stream.push(word);
    await stream.flush();
    expect(sent).toEqual(['a', ' b', ' c']);
  });

  it('reports a failed append on flush', async () => {
    const stream = new DeltaStream(() => Promise.reject(new Error('redis down')), true);
    stream.push('x');
    await expect(stream.flush()).rejects.toThrow('redis down');
  });
});
