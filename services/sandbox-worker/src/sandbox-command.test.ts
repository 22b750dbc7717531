import { loadSandboxConfig } from '@threadwork/shared';
import { describe, expect, it } from 'vitest';
import { sandboxCommand, sessionUid } from './sandbox-command.js';

const config = loadSandboxConfig({ SANDBOX_MAX_PROCESSES: '8', SANDBOX_MEMORY_BYTES: '1000' });

describe('sandboxCommand', () => {
  const spec = sandboxCommand(config, '/repo/services/sandbox-worker/src/repl.py', 200_001);
  const bwrap = spec.args.slice(spec.args.indexOf('--') + 1);

  it('sets every limit as both soft and hard, before bubblewrap starts', () => {
    expect(spec.command).toBe('/usr/bin/prlimit');
    expect(spec.args.slice(0, spec.args.indexOf('--'))).toEqual([
      '--nproc=8:8',
      '--as=1000:1000',
      '--cpu=300:300',
      '--nofile=256:256',
      `--fsize=${64 * 1024 * 1024}:${64 * 1024 * 1024}`,
      '--core=0:0',
    ]);
  });

  it('starts bubblewrap with a clean environment and every namespace new', () => {
    expect(bwrap[0]).toBe('/usr/bin/bwrap');
    expect(bwrap).toEqual(
      expect.arrayContaining(['--unshare-all', '--unshare-user', '--disable-userns', '--clearenv']),
    );
    expect(bwrap).not.toContain('--share-net');
  });

  it('binds nothing of the repository but repl.py, read-only', () => {
    const repository = bwrap.filter((arg) => arg.startsWith('/repo'));
    expect(repository).toEqual(['/repo/services/sandbox-worker/src/repl.py']);
    expect(bwrap[bwrap.indexOf(repository[0] ?? '') - 1]).toBe('--ro-bind');
    expect(bwrap).not.toContain('--bind');
  });

  it('runs as the session uid outside and nobody inside', () => {
    expect(spec.uid).toBe(200_001);
    expect(bwrap.slice(bwrap.indexOf('--uid'), bwrap.indexOf('--uid') + 4)).toEqual([
      '--uid',
      '65534',
      '--gid',
      '65534',
    ]);
  });
});

describe('sessionUid', () => {
  it('picks a uid in the range when the worker is root, none otherwise', () => {
    expect(sessionUid(config, true, () => 0)).toBe(200_000);
    expect(sessionUid(config, true, () => 0.999_999_9)).toBe(299_999);
    expect(sessionUid(config, false)).toBeNull();
  });
});
