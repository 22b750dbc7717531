// What a file is for: the purposes OpenAI's files carry, and the ones a client may upload with.
export const filePurposes = [
  'assistants',
  'assistants_output',
  'batch',
  'batch_output',
  'fine-tune',
  'fine-tune-results',
  'vision',
  'user_data',
  'evals',
] as const;

export type FilePurpose = (typeof filePurposes)[number];

/** Purposes Threadwork writes itself (a tool's output files); an upload may not claim them. */
export const uploadPurposes = [
  'assistants',
  'batch',
  'fine-tune',
  'vision',
  'user_data',
  'evals',
] as const satisfies readonly FilePurpose[];

export type UploadPurpose = (typeof uploadPurposes)[number];

export function isUploadPurpose(value: string): value is UploadPurpose {
  return (uploadPurposes as readonly string[]).includes(value);
}
