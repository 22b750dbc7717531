// code_interpreter's rate limits: a call past the owner's budget waits, and is answered as not run once it waited
// as long as it may; other owners' calls go on.
import { newId } from '@threadwork/shared';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { type SandboxHarness, sandboxConfig, startSandboxHarness } from './support/sandbox-queue.js';

let sandbox: SandboxHarness;

beforeAll(async () => {
  sandbox = await startSandboxHarness(
    sandboxConfig(inject('redisUrl'), {
      SANDBOX_RATE_LIMIT_PER_USER: '2/60',
      SANDBOX_RATE_LIMIT_MAX_WAIT_MS: '200',
    }),
  );
});

afterAll(async () => sandbox?.close());

it('answers a call past the budget that it was not run, and lets other owners run', async () => {
  const ownerId = newId('project');
  const threadId = newId('thread');
  await sandbox.run('count = 1', { ownerId, threadId });
  await sandbox.run('count += 1', { ownerId, threadId });
  const limited = await sandbox.run('count += 1', { ownerId, threadId });
  expect(limited).toMatchObject({ isError: true, session: 'not_run' });
  expect(limited.logs).toMatch(/^\[Rate limit reached for code_interpreter .*2\/60 per user/);
  expect(await sandbox.run('print(1)', { ownerId: newId('project') })).toMatchObject({ logs: '1\n' });
});
