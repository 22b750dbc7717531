// The error a tool throws for the model to read: a code and a message, turned into the call's output.
export type ToolErrorCode =
  | 'invalid_arguments'
  | 'refused'
  | 'not_found'
  | 'sql_error'
  | 'timeout'
  | 'rate_limited'
  | 'disabled'
  | 'run_inactive'
  | 'interrupted'
  | 'unavailable'
  | 'internal';

export class ToolError extends Error {
  override name = 'ToolError';

  constructor(
    readonly code: ToolErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The output the model reads for a failed call: `{"error": "...", "code": "..."}`. */
export function errorOutput(error: ToolError): string {
  return JSON.stringify({ error: error.message, code: error.code });
}
