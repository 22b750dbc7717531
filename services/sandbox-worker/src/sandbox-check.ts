// The start-up check: a session must start and run print(1), or the worker refuses to start with the reason.
import type { SandboxConfig } from '@threadwork/shared';
import { PythonSession } from './python-session.js';
import type { SpawnSpec } from './sandbox-command.js';

export class SandboxUnavailableError extends Error {
  override name = 'SandboxUnavailableError';
}

const CHECK_TIMEOUT_MS = 30_000;

export async function checkSandbox(
  config: SandboxConfig,
  spec: SpawnSpec,
  maxLineBytes: number,
): Promise<void> {
  const advice = 'bubblewrap must be installed and allowed to create namespaces (docs/code-interpreter.md)';
  let session: PythonSession;
  try {
    session = await PythonSession.start(spec, maxLineBytes, CHECK_TIMEOUT_MS);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new SandboxUnavailableError(`${reason}; ${advice}, with ${config.SANDBOX_BWRAP_PATH}`);
  }
  try {
    const outcome = await session.run('print(1)', [], CHECK_TIMEOUT_MS);
    const ran = outcome.kind === 'answered' && outcome.answer.logs === '1\n';
    if (!ran)
      throw new SandboxUnavailableError(`the sandbox did not run print(1) (${outcome.kind}); ${advice}`);
  } finally {
    session.kill();
  }
}
