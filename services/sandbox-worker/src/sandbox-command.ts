// The command that starts a session: prlimit sets the limits, bubblewrap builds the sandbox, Python runs repl.py.
import type { SandboxConfig } from '@threadwork/shared';

export interface SpawnSpec {
  command: string;
  args: string[];
  /** The host uid and gid the session runs as (the worker must be root to choose); null: the worker's own. */
  uid: number | null;
}

/** Where repl.py is found inside the sandbox: the one file of Threadwork's that the sandbox sees. */
const REPL_INSIDE = '/sandbox/repl.py';
/** The uid and gid the code sees (nobody); outside, the session's own uid stands for it. */
const INSIDE_ID = '65534';

function limitArgs(config: SandboxConfig): string[] {
  const both = (value: number) => `${value}:${value}`;
  return [
    `--nproc=${both(config.SANDBOX_MAX_PROCESSES)}`,
    `--as=${both(config.SANDBOX_MEMORY_BYTES)}`,
    `--cpu=${both(config.SANDBOX_CPU_SECONDS)}`,
    `--nofile=${both(config.SANDBOX_MAX_OPEN_FILES)}`,
    `--fsize=${both(config.SANDBOX_MAX_FILE_BYTES)}`,
    '--core=0:0',
  ];
}

function fileSystemArgs(config: SandboxConfig, replPath: string): string[] {
  const readOnly = config.SANDBOX_READONLY_PATHS.flatMap((path) => ['--ro-bind-try', path, path]);
  return [
    ...readOnly,
    '--ro-bind',
    replPath,
    REPL_INSIDE,
    '--symlink',
    'usr/lib',
    '/lib',
    '--symlink',
    'usr/lib64',
    '/lib64',
    '--symlink',
    'usr/bin',
    '/bin',
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--size',
    String(config.SANDBOX_TMP_BYTES),
    '--tmpfs',
    '/tmp',
    // Where repl.py collects a call's stdout and stderr, apart from /tmp so that code filling /tmp still gets its logs.
    '--size',
    String(config.SANDBOX_TMP_BYTES),
    '--tmpfs',
    '/run/output',
    '--size',
    String(config.SANDBOX_DATA_BYTES),
    '--tmpfs',
    '/mnt/data',
    '--chdir',
    '/mnt/data',
    // The root and /dev are memory-backed too: read-only, so that only the sized /tmp and /mnt/data take writes.
    '--remount-ro',
    '/dev',
    '--remount-ro',
    '/',
  ];
}

/** What the code sees of an environment: these variables and nothing of the worker's. */
const sandboxVariables: Record<string, string> = {
  PATH: '/usr/bin',
  HOME: '/tmp',
  LANG: 'C.UTF-8',
  MPLBACKEND: 'Agg',
  MPLCONFIGDIR: '/tmp',
  OPENBLAS_NUM_THREADS: '1',
  OMP_NUM_THREADS: '1',
  PYTHONUNBUFFERED: '1',
};

function namespaceArgs(): string[] {
  return [
    '--unshare-all',
    '--unshare-user',
    '--disable-userns',
    '--uid',
    INSIDE_ID,
    '--gid',
    INSIDE_ID,
    '--hostname',
    'sandbox',
    '--die-with-parent',
    '--new-session',
    '--clearenv',
    ...Object.entries(sandboxVariables).flatMap(([name, value]) => ['--setenv', name, value]),
  ];
}

export function sandboxCommand(config: SandboxConfig, replPath: string, uid: number | null): SpawnSpec {
  return {
    command: config.SANDBOX_PRLIMIT_PATH,
    args: [
      ...limitArgs(config),
      '--',
      config.SANDBOX_BWRAP_PATH,
      ...namespaceArgs(),
      ...fileSystemArgs(config, replPath),
      config.SANDBOX_PYTHON_PATH,
      '-I',
      '-B',
      REPL_INSIDE,
      String(config.SANDBOX_MAX_OUTPUT_BYTES),
      String(config.SANDBOX_MAX_RETURN_BYTES),
    ],
    uid,
  };
}

/** A uid of its own for each session when the worker is root, so that the process limit counts that session only. */
export function sessionUid(config: SandboxConfig, isRoot: boolean, random = Math.random): number | null {
  if (!isRoot) return null;
  return (
    config.SANDBOX_UID_MIN + Math.floor(random() * (config.SANDBOX_UID_MAX - config.SANDBOX_UID_MIN + 1))
  );
}
