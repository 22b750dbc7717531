// Assistants as runs last read them, with their row version: a run is created from the remembered row, and the
// statement that writes the run checks that version, so a run never starts from a settings an update replaced.
import type { AssistantRow } from '@threadwork/shared';
import type { Principal } from '../auth.js';

export interface AssistantSnapshot {
  row: AssistantRow;
  /** Postgres's xmin of the row read: every update of the row changes it. */
  version: string;
}

/** Bounds the memory a flood of distinct assistants can take; the least recently used go first. */
const MAX_SNAPSHOTS = 10_000;

export class AssistantSnapshots {
  private readonly snapshots = new Map<string, AssistantSnapshot>();

  /** The remembered assistant when `principal` may run it (its project's and the shared ones). */
  visible(principal: Principal, id: string): AssistantSnapshot | undefined {
    const snapshot = this.snapshots.get(id);
    if (!snapshot) return undefined;
    const { ownerId } = snapshot.row;
    if (ownerId !== null && ownerId !== principal.projectId) return undefined;
    this.snapshots.delete(id);
    this.snapshots.set(id, snapshot);
    return snapshot;
  }

  remember(snapshot: AssistantSnapshot): void {
    this.snapshots.delete(snapshot.row.id);
    if (this.snapshots.size >= MAX_SNAPSHOTS) {
      const oldest = this.snapshots.keys().next().value;
      if (oldest !== undefined) this.snapshots.delete(oldest);
    }
    this.snapshots.set(snapshot.row.id, snapshot);
  }

  forget(id: string): void {
    this.snapshots.delete(id);
  }
}
