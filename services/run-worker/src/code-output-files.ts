// What a code_interpreter call made, kept as files (purpose assistants_output) that clients download through
// /v1/files/{id}/content: its figures as PNGs, and the files it wrote to /mnt/data.
import type { CodeOutputFile, Db, Logger, RunRow, SandboxJobResult, StepToolCall } from '@threadwork/shared';
import { FileTooLargeError, saveFile } from '@threadwork/shared/files/file-store';

export interface SavedOutputs {
  images: string[];
  files: CodeOutputFile[];
}

interface KeepDeps {
  db: Db;
  log: Logger;
  maxBytes: number;
}

/** Stores one output; null when it is over the file size limit (the call's logs already show what it wrote). */
async function keep(deps: KeepDeps, run: RunRow, filename: string, data: string): Promise<string | null> {
  try {
    const row = await saveFile(deps.db, {
      ownerId: run.ownerId,
      filename,
      details: { purpose: 'assistants_output', expiresAt: null },
      content: [Buffer.from(data, 'base64')],
      maxBytes: deps.maxBytes,
    });
    return row.id;
  } catch (error) {
    if (!(error instanceof FileTooLargeError)) throw error;
    deps.log.warn({ runId: run.id, filename, limit: error.limit }, 'code output not kept: too large');
    return null;
  }
}

/** Keeps the figures and files of each result, by call id. */
export async function saveCodeOutputs(
  deps: KeepDeps,
  run: RunRow,
  results: SandboxJobResult[],
): Promise<Map<string, SavedOutputs>> {
  const saved = new Map<string, SavedOutputs>();
  for (const result of results) {
    const images: string[] = [];
    for (const [index, png] of result.images.entries()) {
      const fileId = await keep(deps, run, `figure-${index + 1}.png`, png);
      if (fileId) images.push(fileId);
    }
    const files: CodeOutputFile[] = [];
    for (const file of result.files) {
      const fileId = await keep(deps, run, file.name, file.data);
      if (fileId) files.push({ name: file.name, file_id: fileId });
    }
    saved.set(result.callId, { images, files });
  }
  return saved;
}

/** The calls with what their code made, where it was kept. */
export function withCodeOutputs(calls: StepToolCall[], saved: Map<string, SavedOutputs>): StepToolCall[] {
  return calls.map((call) => {
    const outputs = saved.get(call.id);
    return outputs ? { ...call, images: outputs.images, files: outputs.files } : call;
  });
}
