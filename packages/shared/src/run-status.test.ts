import { describe, expect, it } from 'vitest';
import { activeStatuses, allowedFrom, canMove, isTerminal, nextStatuses, runStatuses } from './run-status.js';

describe('the run state machine', () => {
  it('has the nine statuses of the API, four active and five terminal', () => {
    expect(runStatuses).toHaveLength(9);
    expect(activeStatuses).toEqual(['queued', 'in_progress', 'requires_action', 'cancelling']);
    expect(runStatuses.filter(isTerminal)).toEqual([
      'cancelled',
      'failed',
      'completed',
      'incomplete',
      'expired',
    ]);
  });

  it('lets nothing leave a terminal status', () => {
    for (const status of runStatuses.filter(isTerminal)) expect(nextStatuses[status]).toEqual([]);
  });

  it('follows the documented lifecycle', () => {
    expect(canMove('queued', 'in_progress')).toBe(true);
    expect(canMove('in_progress', 'requires_action')).toBe(true);
    expect(canMove('requires_action', 'queued')).toBe(true);
    expect(canMove('in_progress', 'incomplete')).toBe(true);
    expect(canMove('requires_action', 'expired')).toBe(true);
    expect(canMove('cancelling', 'cancelled')).toBe(true);
    expect(canMove('cancelling', 'completed')).toBe(true);
  });

  it('refuses shortcuts', () => {
    expect(canMove('queued', 'completed')).toBe(false);
    expect(canMove('queued', 'requires_action')).toBe(false);
    expect(canMove('requires_action', 'completed')).toBe(false);
    expect(canMove('requires_action', 'in_progress')).toBe(false);
    expect(canMove('in_progress', 'cancelled')).toBe(false);
    expect(canMove('completed', 'cancelling')).toBe(false);
  });

  it('answers the statuses a compare-and-set may move from', () => {
    expect(allowedFrom('cancelling')).toEqual(['queued', 'in_progress', 'requires_action']);
    expect(allowedFrom('queued')).toEqual(['in_progress', 'requires_action']);
    expect(allowedFrom('expired')).toEqual(['queued', 'in_progress', 'requires_action']);
    expect(allowedFrom('cancelled')).toEqual(['cancelling']);
  });
});
