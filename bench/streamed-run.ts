// One streamed run timed from the moment its POST is written: first text delta, final run event, final text.
import type { ApiClient } from './http-client.js';

export interface TimedRun {
  /** ms from the POST to the first thread.message.delta frame (null when the run produced no text). */
  firstDeltaMs: number | null;
  /** ms from the POST to the thread.run.<final> frame. */
  finishedMs: number;
  status: string;
  /** The text of the last completed message, to check what the run did. */
  text: string;
  /** ms from the POST to the first frame of each event name. */
  firstSeen: Record<string, number>;
  frames: number;
}

interface MessageData {
  content?: Array<{ type: string; text?: { value?: string } }>;
}

function textOf(data: string): string {
  const message = JSON.parse(data) as MessageData;
  return (message.content ?? []).map((part) => part.text?.value ?? '').join('');
}

const finalPrefix = 'thread.run.';
const finalStatuses = new Set([
  'completed',
  'failed',
  'cancelled',
  'expired',
  'incomplete',
  'requires_action',
]);

/** POSTs `path` with stream: true and reads until the stream ends; `started` is a performance.now() reading. */
export async function timeStreamedRun(
  v1: ApiClient,
  path: string,
  body: Record<string, unknown>,
  onFirstDelta?: (at: number) => void,
): Promise<TimedRun> {
  const started = performance.now();
  const result: TimedRun = {
    firstDeltaMs: null,
    finishedMs: Number.NaN,
    status: 'unfinished',
    text: '',
    firstSeen: {},
    frames: 0,
  };
  await v1.stream(path, { ...body, stream: true }, (event, data) => {
    const now = performance.now();
    result.frames += 1;
    result.firstSeen[event] ??= now - started;
    if (event === 'thread.message.delta' && result.firstDeltaMs === null) {
      result.firstDeltaMs = now - started;
      onFirstDelta?.(now);
    } else if (event === 'thread.message.completed') {
      result.text = textOf(data);
    } else if (event.startsWith(finalPrefix) && finalStatuses.has(event.slice(finalPrefix.length))) {
      result.finishedMs = now - started;
      result.status = event.slice(finalPrefix.length);
    }
    return 'continue';
  });
  if (result.status === 'unfinished') throw new Error(`the stream of ${path} ended before the run did`);
  return result;
}
