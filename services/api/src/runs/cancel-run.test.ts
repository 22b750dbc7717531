import { describe, expect, it } from 'vitest';
import { isWorkerProgress } from './cancel-run.js';

describe('cancel races', () => {
  it('follows a run the worker moved on, but not one another request moved', () => {
    expect(isWorkerProgress('queued', 'in_progress')).toBe(true);
    expect(isWorkerProgress('queued', 'requires_action')).toBe(true);
    expect(isWorkerProgress('in_progress', 'requires_action')).toBe(true);
    expect(isWorkerProgress('requires_action', 'queued')).toBe(false);
    expect(isWorkerProgress('requires_action', 'in_progress')).toBe(false);
    expect(isWorkerProgress('in_progress', 'completed')).toBe(false);
  });
});
