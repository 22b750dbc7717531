// The JSON shapes of the Assistants API as they go over the wire (OpenAI Assistants v2).
export type Metadata = Record<string, string>;
/** `admin` manages its project (or, with `is_deployment_admin`, every project); `server` uses its project's data. */
export type ApiKeyRole = 'admin' | 'server';

export interface FunctionDefinition {
  name: string;
  description?: string;
  parameters?: Record<string, unknown>;
  strict?: boolean | null;
}

export type ToolDefinition =
  | { type: 'function'; function: FunctionDefinition }
  | { type: 'code_interpreter' }
  | { type: 'file_search'; file_search?: Record<string, unknown> }
  | { type: BuiltinToolType };

export type BuiltinToolType =
  | 'list_tables'
  | 'get_schema'
  | 'run_sql'
  | 'create_table'
  | 'drop_table'
  | 'search_products'
  | 'show_products'
  | 'file_search';

export type ToolChoice =
  | 'none'
  | 'auto'
  | 'required'
  | { type: 'function'; function: { name: string } }
  | { type: 'code_interpreter' | 'file_search' };

export type ResponseFormat =
  | 'auto'
  | { type: 'text' }
  | { type: 'json_object' }
  | {
      type: 'json_schema';
      json_schema: {
        name: string;
        description?: string;
        schema?: Record<string, unknown>;
        strict?: boolean | null;
      };
    };

export interface TruncationStrategy {
  type: 'auto' | 'last_messages';
  last_messages: number | null;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface LastError {
  code: 'server_error' | 'rate_limit_exceeded' | 'invalid_prompt';
  message: string;
}

export interface IncompleteDetails {
  reason: 'max_completion_tokens' | 'max_prompt_tokens';
}

export interface FunctionToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface RequiredAction {
  type: 'submit_tool_outputs';
  submit_tool_outputs: { tool_calls: FunctionToolCall[] };
}

/** A passage of a file the answer cites: `text` is the marker in the answer, at [start_index, end_index). */
export interface FileCitationAnnotation {
  type: 'file_citation';
  text: string;
  start_index: number;
  end_index: number;
  file_citation: { file_id: string };
}

/** A mention of a file the run's code wrote, by its sandbox path. */
export interface FilePathAnnotation {
  type: 'file_path';
  text: string;
  start_index: number;
  end_index: number;
  file_path: { file_id: string };
}

export type TextAnnotation = FileCitationAnnotation | FilePathAnnotation;

export interface TextContentPart {
  type: 'text';
  text: { value: string; annotations: TextAnnotation[] };
}

export type MessageContentPart =
  | TextContentPart
  | { type: 'image_file'; image_file: { file_id: string; detail?: 'auto' | 'low' | 'high' } }
  | { type: 'image_url'; image_url: { url: string; detail?: 'auto' | 'low' | 'high' } }
  | { type: 'refusal'; refusal: string };

export interface StepToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string; output: string | null };
  /** A code_interpreter call's figures, as file ids. */
  images?: string[];
  /** The files a code_interpreter call wrote to /mnt/data, kept as files. */
  files?: CodeOutputFile[];
}

/** A file the code wrote, by its name in /mnt/data, and the file that keeps it. */
export interface CodeOutputFile {
  name: string;
  file_id: string;
}

/** How a run step stores its calls: each as a function call, file_search's with its JSON output. */
export type StepDetails =
  | { type: 'message_creation'; message_creation: { message_id: string } }
  | { type: 'tool_calls'; tool_calls: StepToolCall[] };

export interface FileSearchRankingOptions {
  ranker: 'auto' | 'default_2024_08_21';
  score_threshold: number;
}

export interface FileSearchResult {
  file_id: string;
  file_name: string;
  score: number;
  /** Only when the request asks for it (`include[]=step_details.tool_calls[*].file_search.results[*].content`). */
  content?: Array<{ type: 'text'; text: string }>;
}

/** A file_search call as OpenAI's API shows it; `file_search` is empty until the call has its results. */
export interface FileSearchToolCall {
  id: string;
  type: 'file_search';
  file_search: { ranking_options?: FileSearchRankingOptions; results?: FileSearchResult[] };
}

/** What a code_interpreter call gave: its stdout and stderr, and the images it drew. */
export type CodeInterpreterOutput =
  | { type: 'logs'; logs: string }
  | { type: 'image'; image: { file_id: string } };

/** A code_interpreter call as clients see it; it is stored as a call of the `code_interpreter` function. */
export interface CodeInterpreterToolCall {
  id: string;
  type: 'code_interpreter';
  code_interpreter: { input: string; outputs: CodeInterpreterOutput[] };
}

/**
 * A step's details as clients see them: file_search and code_interpreter calls in their own shapes, every other call
 * as a function.
 */
export type StepDetailsObject =
  | { type: 'message_creation'; message_creation: { message_id: string } }
  | { type: 'tool_calls'; tool_calls: Array<StepToolCall | FileSearchToolCall | CodeInterpreterToolCall> };

export interface FunctionCallDelta {
  index: number;
  id?: string;
  type: 'function';
  function: { name?: string; arguments: string; output?: string | null };
}

export interface FileSearchCallDelta {
  index: number;
  id?: string;
  type: 'file_search';
  file_search: Record<string, never>;
}

export interface CodeInterpreterCallDelta {
  index: number;
  id?: string;
  type: 'code_interpreter';
  code_interpreter: { input?: string; outputs?: Array<{ index: number } & CodeInterpreterOutput> };
}

export interface AssistantObject {
  id: string;
  object: 'assistant';
  created_at: number;
  name: string | null;
  description: string | null;
  model: string;
  instructions: string | null;
  tools: ToolDefinition[];
  tool_resources: Record<string, unknown>;
  metadata: Metadata;
  temperature: number | null;
  top_p: number | null;
  response_format: ResponseFormat | null;
  reasoning_effort: string | null;
}

export interface ThreadObject {
  id: string;
  object: 'thread';
  created_at: number;
  metadata: Metadata;
  tool_resources: Record<string, unknown>;
}

export interface MessageObject {
  id: string;
  object: 'thread.message';
  created_at: number;
  thread_id: string;
  status: 'in_progress' | 'incomplete' | 'completed';
  incomplete_details: { reason: string } | null;
  completed_at: number | null;
  incomplete_at: number | null;
  role: 'user' | 'assistant';
  content: MessageContentPart[];
  assistant_id: string | null;
  run_id: string | null;
  attachments: unknown[];
  metadata: Metadata;
}

export interface RunObject {
  id: string;
  object: 'thread.run';
  created_at: number;
  thread_id: string;
  assistant_id: string;
  status: import('./run-status.js').RunStatus;
  required_action: RequiredAction | null;
  last_error: LastError | null;
  expires_at: number | null;
  started_at: number | null;
  cancelled_at: number | null;
  failed_at: number | null;
  completed_at: number | null;
  incomplete_details: IncompleteDetails | null;
  model: string;
  instructions: string;
  tools: ToolDefinition[];
  metadata: Metadata;
  usage: Usage | null;
  temperature: number | null;
  top_p: number | null;
  max_prompt_tokens: number | null;
  max_completion_tokens: number | null;
  truncation_strategy: TruncationStrategy;
  tool_choice: ToolChoice;
  parallel_tool_calls: boolean;
  response_format: ResponseFormat;
}

export interface RunStepObject {
  id: string;
  object: 'thread.run.step';
  created_at: number;
  assistant_id: string;
  thread_id: string;
  run_id: string;
  type: 'message_creation' | 'tool_calls';
  status: 'in_progress' | 'cancelled' | 'failed' | 'completed' | 'expired';
  step_details: StepDetailsObject;
  last_error: LastError | null;
  expired_at: number | null;
  cancelled_at: number | null;
  failed_at: number | null;
  completed_at: number | null;
  metadata: Metadata | null;
  usage: Usage | null;
}

export interface MessageDeltaObject {
  id: string;
  object: 'thread.message.delta';
  delta: {
    content: Array<{ index: number; type: 'text'; text: { value: string; annotations?: unknown[] } }>;
  };
}

export interface RunStepDeltaObject {
  id: string;
  object: 'thread.run.step.delta';
  delta: {
    step_details: {
      type: 'tool_calls';
      tool_calls: Array<FunctionCallDelta | FileSearchCallDelta | CodeInterpreterCallDelta>;
    };
  };
}

export interface ProductCard {
  /** As the catalog gave it: a string, or an integer (see product-cards.ts). */
  id: string | number;
  name: string;
  price: number | null;
  currency: string | null;
  image_url: string | null;
  url: string | null;
  description?: string | null;
}
