// Row factories for unit tests of code that takes database rows: plain defaults, the test names what matters.
import type { MessageRow, RunRow } from '@threadwork/shared';

const epoch = new Date('2026-01-01T00:00:00.000Z');

export function runRow(overrides: Partial<RunRow> = {}): RunRow {
  return {
    id: 'run_1',
    threadId: 'thread_1',
    ownerId: 'key_1',
    assistantId: 'asst_1',
    status: 'in_progress',
    requiredAction: null,
    lastError: null,
    incompleteDetails: null,
    model: 'offline',
    instructions: '',
    tools: [],
    metadata: {},
    usage: null,
    temperature: 1,
    topP: 1,
    maxPromptTokens: null,
    maxCompletionTokens: null,
    truncationStrategy: { type: 'auto', last_messages: null },
    toolChoice: 'auto',
    parallelToolCalls: true,
    responseFormat: 'auto',
    createdAt: epoch,
    expiresAt: null,
    startedAt: epoch,
    cancelledAt: null,
    failedAt: null,
    completedAt: null,
    eventSeq: 0,
    jobId: null,
    leaseOwner: null,
    leaseExpiresAt: null,
    waitsFor: null,
    rollsBack: null,
    historyUntil: null,
    ...overrides,
  };
}

/** A user's message with one text part, completed; every column present, as a statement that writes whole rows needs. */
export function userMessageRow(text: string, overrides: Partial<MessageRow> = {}): MessageRow {
  return {
    id: 'msg_1',
    threadId: 'thread_1',
    role: 'user',
    content: [{ type: 'text', text: { value: text, annotations: [] } }],
    status: 'completed',
    assistantId: null,
    runId: null,
    attachments: [],
    metadata: {},
    incompleteDetails: null,
    createdAt: epoch,
    completedAt: epoch,
    incompleteAt: null,
    ...overrides,
  };
}
