// A whole thread for download: messages with roles and times, each run's tool calls and product cards on its last
// answer, and the feedback given; as JSON or as Markdown.
import {
  type Db,
  type MessageRow,
  type ProductCard,
  productCardsOf,
  type StepToolCall,
  schema,
  type ThreadRow,
  unixSeconds,
} from '@threadwork/shared';
import { and, asc, eq } from 'drizzle-orm';
import type { Principal } from '../../auth.js';
import type { AppDeps } from '../../deps.js';
import { feedbackOnMessages } from '../../repositories/feedback.js';
import { ownedThread } from '../../repositories/threads.js';
import { messageText } from './run-view.js';

const { messages, runSteps } = schema;

export interface ExportedToolCall {
  id: string;
  name: string;
  arguments: string;
  output: string | null;
}

export interface ExportedFeedback {
  rating: number;
  comment: string | null;
  created_at: number;
}

export interface ExportedMessage {
  id: string;
  role: 'user' | 'assistant';
  content: string;
  created_at: number;
  run_id: string | null;
  /** On a run's last answer: the tool calls the run made. */
  tool_calls: ExportedToolCall[];
  /** On a run's last answer: the cards the run showed. */
  products: ProductCard[];
  feedback: ExportedFeedback[];
}

export interface ThreadExport {
  object: 'chat.thread.export';
  thread_id: string;
  assistant_id: string | null;
  created_at: number;
  exported_at: number;
  metadata: Record<string, string>;
  messages: ExportedMessage[];
}

export interface ExportRecords {
  thread: ThreadRow;
  messages: MessageRow[];
  /** Tool calls by run, in the order they were made. */
  toolCalls: Map<string, StepToolCall[]>;
  feedback: { messageId: string; rating: number; comment: string | null; createdAt: Date }[];
  now: Date;
}

async function toolCallsByRun(db: Db, threadId: string): Promise<Map<string, StepToolCall[]>> {
  const steps = await db
    .select({ runId: runSteps.runId, details: runSteps.stepDetails })
    .from(runSteps)
    .where(and(eq(runSteps.threadId, threadId), eq(runSteps.type, 'tool_calls')))
    .orderBy(asc(runSteps.id));
  const calls = new Map<string, StepToolCall[]>();
  for (const step of steps) {
    if (step.details.type !== 'tool_calls') continue;
    calls.set(step.runId, [...(calls.get(step.runId) ?? []), ...step.details.tool_calls]);
  }
  return calls;
}

/** The records of the caller's thread; another user's thread answers 404. */
async function loadExportRecords(
  deps: AppDeps,
  principal: Principal,
  threadId: string,
): Promise<ExportRecords> {
  const thread = await ownedThread(deps.db, principal, threadId);
  const rows = await deps.db
    .select()
    .from(messages)
    .where(eq(messages.threadId, thread.id))
    .orderBy(asc(messages.createdAt), asc(messages.id));
  const [toolCalls, feedback] = await Promise.all([
    toolCallsByRun(deps.db, thread.id),
    feedbackOnMessages(
      deps.db,
      rows.map((row) => row.id),
    ),
  ]);
  return { thread, messages: rows, toolCalls, feedback, now: new Date() };
}

/** The export of loaded records: a run's tool calls and cards go on its last assistant message. */
export function toThreadExport(records: ExportRecords): ThreadExport {
  const lastAnswer = new Map<string, string>();
  for (const row of records.messages)
    if (row.role === 'assistant' && row.runId) lastAnswer.set(row.runId, row.id);
  return {
    object: 'chat.thread.export',
    thread_id: records.thread.id,
    assistant_id: records.thread.assistantId,
    created_at: unixSeconds(records.thread.createdAt),
    exported_at: unixSeconds(records.now),
    metadata: records.thread.metadata,
    messages: records.messages.map((row) => {
      const calls =
        row.runId && lastAnswer.get(row.runId) === row.id ? (records.toolCalls.get(row.runId) ?? []) : [];
      return {
        id: row.id,
        role: row.role,
        content: messageText(row),
        created_at: unixSeconds(row.createdAt),
        run_id: row.runId,
        tool_calls: calls.map((call) => ({
          id: call.id,
          name: call.function.name,
          arguments: call.function.arguments,
          output: call.function.output,
        })),
        products: productCardsOf(calls),
        feedback: records.feedback
          .filter((entry) => entry.messageId === row.id)
          .map((entry) => ({
            rating: entry.rating,
            comment: entry.comment,
            created_at: unixSeconds(entry.createdAt),
          })),
      };
    }),
  };
}

const isoTime = (seconds: number) => new Date(seconds * 1000).toISOString();

/** Text that goes in a fenced block: a fence longer than any backtick run inside it. */
function fenced(text: string, language = ''): string {
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${language}\n${text}\n${fence}`;
}

function productLine(card: ProductCard): string {
  const price = card.price === null ? '' : ` — ${card.price}${card.currency ? ` ${card.currency}` : ''}`;
  const name = card.url ? `[${card.name}](${card.url})` : card.name;
  return `- ${name}${price} (id ${JSON.stringify(card.id)})`;
}

function messageMarkdown(message: ExportedMessage): string {
  const parts = [`## ${message.role === 'user' ? 'User' : 'Assistant'} · ${isoTime(message.created_at)}`];
  for (const call of message.tool_calls) {
    parts.push(`**Tool call** \`${call.name}\``, fenced(call.arguments, 'json'));
    if (call.output !== null) parts.push('Output:', fenced(call.output));
  }
  if (message.content) parts.push(message.content);
  if (message.products.length > 0)
    parts.push(`**Products**\n\n${message.products.map(productLine).join('\n')}`);
  for (const entry of message.feedback) {
    const verdict = entry.rating > 0 ? '👍 helpful' : '👎 not helpful';
    parts.push(`> Feedback: ${verdict}${entry.comment ? ` — ${entry.comment.replace(/\n/g, ' ')}` : ''}`);
  }
  return parts.join('\n\n');
}

/** The export as a Markdown document: one section per message, in order. */
export function toMarkdown(exported: ThreadExport): string {
  const header = [
    `# Thread ${exported.thread_id}`,
    `Created ${isoTime(exported.created_at)} · exported ${isoTime(exported.exported_at)}` +
      (exported.assistant_id ? ` · assistant ${exported.assistant_id}` : ''),
  ].join('\n\n');
  return `${[header, ...exported.messages.map(messageMarkdown)].join('\n\n---\n\n')}\n`;
}

export async function exportThread(
  deps: AppDeps,
  principal: Principal,
  threadId: string,
): Promise<ThreadExport> {
  return toThreadExport(await loadExportRecords(deps, principal, threadId));
}
