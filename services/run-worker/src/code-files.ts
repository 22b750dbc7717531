// The files a thread's code_interpreter calls find in /mnt/data: the assistant's and the thread's
// tool_resources.code_interpreter.file_ids, and the files attached to the thread's messages for code_interpreter.
import {
  type Db,
  isCodeInterpreterCall,
  type RunRow,
  type SandboxFile,
  type StepToolCall,
  schema,
} from '@threadwork/shared';
import { findFile, readFileBytes } from '@threadwork/shared/files/file-store';
import { eq } from 'drizzle-orm';
import { z } from 'zod';

/** The most files a call takes (the sandbox job's limit). */
const MAX_FILES = 20;

const codeInterpreterResources = z.object({
  code_interpreter: z.object({ file_ids: z.array(z.string()).optional() }).optional(),
});

const codeAttachment = z.object({
  file_id: z.string(),
  tools: z.array(z.object({ type: z.string() })).optional(),
});

function resourceFileIds(resources: unknown): string[] {
  const parsed = codeInterpreterResources.safeParse(resources);
  return parsed.success ? (parsed.data.code_interpreter?.file_ids ?? []) : [];
}

function attachedFileIds(attachments: unknown[]): string[] {
  return attachments.flatMap((attachment) => {
    const parsed = codeAttachment.safeParse(attachment);
    if (!parsed.success) return [];
    const isForCode = parsed.data.tools?.some((tool) => tool.type === 'code_interpreter') ?? false;
    return isForCode ? [parsed.data.file_id] : [];
  });
}

/** A file's name as the code sees it in /mnt/data: its own name without any directory, or its id. */
function nameInSandbox(filename: string, fileId: string): string {
  const base = filename.split(/[/\\]/).at(-1)?.replace(/\0/g, '') ?? '';
  return base.length > 0 && base !== '.' && base !== '..' ? base.slice(0, 255) : fileId;
}

async function fileIdsFor(db: Db, run: RunRow): Promise<string[]> {
  const [assistant] = await db
    .select({ toolResources: schema.assistants.toolResources })
    .from(schema.assistants)
    .where(eq(schema.assistants.id, run.assistantId));
  const [thread] = await db
    .select({ toolResources: schema.threads.toolResources })
    .from(schema.threads)
    .where(eq(schema.threads.id, run.threadId));
  const messages = await db
    .select({ attachments: schema.messages.attachments })
    .from(schema.messages)
    .where(eq(schema.messages.threadId, run.threadId));
  const ids = [
    ...resourceFileIds(assistant?.toolResources),
    ...resourceFileIds(thread?.toolResources),
    ...messages.flatMap((message) => attachedFileIds(message.attachments)),
  ];
  return [...new Set(ids)].slice(0, MAX_FILES);
}

/** The files, with their bytes; a file of another project, deleted or expired is left out. */
export async function codeInterpreterFiles(db: Db, run: RunRow): Promise<SandboxFile[]> {
  const files: SandboxFile[] = [];
  for (const fileId of await fileIdsFor(db, run)) {
    const file = await findFile(db, { ownerId: run.ownerId, fileId });
    if (!file) continue;
    const bytes = await readFileBytes(db, file);
    files.push({ name: nameInSandbox(file.filename, file.id), data: bytes.toString('base64') });
  }
  return files;
}

/** The files for a step's calls: none unless one of them is a code_interpreter call. */
export async function filesForCode(db: Db, run: RunRow, calls: StepToolCall[]): Promise<SandboxFile[]> {
  const hasCode = calls.some((call) => isCodeInterpreterCall(run, call.function.name));
  return hasCode ? codeInterpreterFiles(db, run) : [];
}
