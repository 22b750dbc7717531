// What the model reads of a call: the code's output, with the sandbox's notes (a lost session, a cut output, a limit).
import type { SandboxJobResult } from '@threadwork/shared';
import type { CallOutcome } from './python-session.js';

export interface LogLimits {
  callTimeoutMs: number;
  maxOutputBytes: number;
  maxReturnBytes: number;
}

export const RESTARTED_NOTE =
  '[The earlier session of this thread was lost (its sandbox worker stopped): this call ran in a new session, so ' +
  'variables and files from earlier calls are gone.]';

const NEXT_CALL = 'the session ended with it, and the next call starts a new one';

function endingNote(outcome: Exclude<CallOutcome, { kind: 'answered' }>, limits: LogLimits): string {
  switch (outcome.kind) {
    case 'timed_out':
      return `[The code did not finish within ${limits.callTimeoutMs / 1000} s and was stopped; ${NEXT_CALL}.]`;
    case 'exited':
      return `[The Python process ended (${outcome.detail}), for instance by passing a limit of the sandbox; ${NEXT_CALL}.]`;
    case 'answer_too_large':
      return `[The call's figures and files passed the ${limits.maxReturnBytes}-byte limit; ${NEXT_CALL}.]`;
  }
}

/** The logs of a call, and whether it failed, from how it ended and the state of its session. */
export function callLogs(
  session: SandboxJobResult['session'],
  outcome: CallOutcome,
  limits: LogLimits,
): { logs: string; isError: boolean } {
  const notes: string[] = session === 'restarted' ? [RESTARTED_NOTE] : [];
  if (outcome.kind !== 'answered') {
    return { logs: [...notes, endingNote(outcome, limits)].join('\n'), isError: true };
  }
  const { answer } = outcome;
  const parts = [...notes, answer.logs];
  if (answer.logs_truncated)
    parts.push(`[Output cut: only the first ${limits.maxOutputBytes} bytes are kept.]`);
  if (answer.files.length > 0) {
    const paths = answer.files.map((file) => `sandbox:/mnt/data/${file.name}`);
    parts.push(`[Files written, handed to the user: ${paths.join(', ')}]`);
  }
  if (answer.files_left_out.length > 0) {
    parts.push(
      `[Not handed back, past the ${limits.maxReturnBytes}-byte limit: ${answer.files_left_out.join(', ')}.]`,
    );
  }
  return { logs: parts.filter((part) => part.length > 0).join('\n'), isError: answer.failed };
}
