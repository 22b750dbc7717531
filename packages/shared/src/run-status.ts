// The run state machine as data: which status may follow which, and what counts as active or terminal.
export const runStatuses = [
  'queued',
  'in_progress',
  'requires_action',
  'cancelling',
  'cancelled',
  'failed',
  'completed',
  'incomplete',
  'expired',
] as const;

export type RunStatus = (typeof runStatuses)[number];

export const nextStatuses: Record<RunStatus, readonly RunStatus[]> = {
  queued: ['in_progress', 'cancelling', 'failed', 'expired'],
  // in_progress → queued: a run whose worker stopped before anything was streamed starts over.
  in_progress: ['queued', 'requires_action', 'completed', 'incomplete', 'failed', 'cancelling', 'expired'],
  requires_action: ['queued', 'cancelling', 'expired'],
  cancelling: ['cancelled', 'completed', 'failed', 'incomplete'],
  completed: [],
  incomplete: [],
  failed: [],
  cancelled: [],
  expired: [],
};

export function assertNever(value: never): never {
  throw new Error(`Unexpected value: ${String(value)}`);
}

export function isTerminal(status: RunStatus): boolean {
  switch (status) {
    case 'queued':
    case 'in_progress':
    case 'requires_action':
    case 'cancelling':
      return false;
    case 'completed':
    case 'incomplete':
    case 'failed':
    case 'cancelled':
    case 'expired':
      return true;
    default:
      return assertNever(status);
  }
}

/** Whether a run has stopped moving on its own: it ended, or it waits for its client's tool outputs. */
export function hasStopped(status: RunStatus): boolean {
  return isTerminal(status) || status === 'requires_action';
}

export const activeStatuses: readonly RunStatus[] = runStatuses.filter((status) => !isTerminal(status));

/** The statuses a run may be in for a move to `next` to be legal. */
export function allowedFrom(next: RunStatus): RunStatus[] {
  return runStatuses.filter((status) => nextStatuses[status].includes(next));
}

export function canMove(from: RunStatus, to: RunStatus): boolean {
  return nextStatuses[from].includes(to);
}
