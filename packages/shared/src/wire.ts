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
  | 'show_products';

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

export interface TextContentPart {
  type: 'text';
  text: { value: string; annotations: unknown[] };
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

export type StepDetails =
  | { type: 'message_creation'; message_creation: { message_id: string } }
  | { type: 'tool_calls'; tool_calls: StepToolCall[] };

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

/** A step's details as clients see them. */
export type WireStepDetails =
  | { type: 'message_creation'; message_creation: { message_id: string } }
  | { type: 'tool_calls'; tool_calls: Array<StepToolCall | CodeInterpreterToolCall> };

export interface FunctionCallDelta {
  index: number;
  id?: string;
  type: 'function';
  function: { name?: string; arguments: string; output?: string | null };
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
  step_details: WireStepDetails;
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
      tool_calls: Array<FunctionCallDelta | CodeInterpreterCallDelta>;
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
