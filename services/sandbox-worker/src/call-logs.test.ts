import { describe, expect, it } from 'vitest';
import { callLogs, RESTARTED_NOTE } from './call-logs.js';
import type { ReplAnswer } from './python-session.js';

const limits = { callTimeoutMs: 30_000, maxOutputBytes: 100, maxReturnBytes: 1000 };
const answer = (overrides: Partial<ReplAnswer> = {}): ReplAnswer => ({
  id: 'x',
  logs: 'out\n',
  logs_truncated: false,
  failed: false,
  images: [],
  files: [],
  files_left_out: [],
  ...overrides,
});

describe('callLogs', () => {
  it('is the output as written for a call that went well', () => {
    expect(callLogs('continued', { kind: 'answered', answer: answer() }, limits)).toEqual({
      logs: 'out\n',
      isError: false,
    });
  });

  it('says when the session was lost before the call', () => {
    const { logs } = callLogs('restarted', { kind: 'answered', answer: answer() }, limits);
    expect(logs).toBe(`${RESTARTED_NOTE}\nout\n`);
  });

  it('says what was cut and what was not handed back', () => {
    const cut = answer({ logs_truncated: true, files_left_out: ['big.csv'] });
    const { logs } = callLogs('new', { kind: 'answered', answer: cut }, limits);
    expect(logs).toContain('only the first 100 bytes');
    expect(logs).toContain('past the 1000-byte limit: big.csv');
  });

  it('names the files handed back by their sandbox: paths', () => {
    const written = answer({ files: [{ name: 'out.csv', data: '' }] });
    const { logs } = callLogs('new', { kind: 'answered', answer: written }, limits);
    expect(logs).toBe('out\n\n[Files written, handed to the user: sandbox:/mnt/data/out.csv]');
  });

  it('is an error the model reads when the code raised or the session ended', () => {
    expect(callLogs('new', { kind: 'answered', answer: answer({ failed: true }) }, limits).isError).toBe(
      true,
    );
    const timedOut = callLogs('continued', { kind: 'timed_out' }, limits);
    expect(timedOut).toEqual({ logs: expect.stringContaining('within 30 s'), isError: true });
    const exited = callLogs('new', { kind: 'exited', detail: 'killed by SIGKILL' }, limits);
    expect(exited.logs).toContain('killed by SIGKILL');
  });
});
