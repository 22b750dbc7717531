// The containment battery: code that attacks the sandbox, each attempt contained, the worker alive after it, and the
// next call answered.
import { existsSync } from 'node:fs';
import { newId } from '@threadwork/shared';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { type SandboxHarness, sandboxConfig, startSandboxHarness } from './support/sandbox-queue.js';

const CANARY = `canary-${newId('call')}`;
const MAX_OUTPUT = 4096;
let sandbox: SandboxHarness;

beforeAll(async () => {
  // A secret in the worker's own environment: no call may see it.
  process.env.SANDBOX_TEST_SECRET = CANARY;
  sandbox = await startSandboxHarness(
    sandboxConfig(inject('redisUrl'), {
      SANDBOX_CALL_TIMEOUT_MS: '6000',
      SANDBOX_MEMORY_BYTES: String(512 * 1024 * 1024),
      SANDBOX_MAX_PROCESSES: '16',
      SANDBOX_DATA_BYTES: String(16 * 1024 * 1024),
      SANDBOX_TMP_BYTES: String(16 * 1024 * 1024),
      SANDBOX_MAX_FILE_BYTES: String(8 * 1024 * 1024),
      SANDBOX_MAX_OUTPUT_BYTES: String(MAX_OUTPUT),
      SANDBOX_CPU_SECONDS: '20',
    }),
  );
});

afterAll(async () => {
  await sandbox?.close();
  delete process.env.SANDBOX_TEST_SECRET;
});

afterEach(async () => {
  const health = await fetch(`http://127.0.0.1:${sandbox.worker.port}/healthz`);
  expect(health.status).toBe(200);
  const next = await sandbox.run('print(6 * 7)');
  expect(next).toMatchObject({ logs: '42\n', isError: false });
});

/** Runs code that prints a verdict and answers the printed lines (without the note naming the files it wrote). */
async function verdict(code: string, threadId?: string): Promise<string> {
  const result = await sandbox.run(code, threadId ? { threadId } : {});
  return result.logs.replace(/\n\[Files written, handed to the user: [^\]]*\]$/, '').trim();
}

describe('the network', () => {
  const connect = (host: string, port: number) => `
import socket
try:
    socket.create_connection((${JSON.stringify(host)}, ${port}), timeout=2)
    print('connected')
except OSError as error:
    print('refused', error.errno)`;

  it('does not reach Postgres on 127.0.0.1:5432', async () => {
    expect(await verdict(connect('127.0.0.1', 5432))).toMatch(/^refused/);
  });

  it('does not reach Redis on 127.0.0.1:6379', async () => {
    expect(await verdict(connect('127.0.0.1', 6379))).toMatch(/^refused/);
  });

  it('does not reach any outside address', async () => {
    expect(await verdict(connect('1.1.1.1', 443))).toMatch(/^refused/);
  });

  it('cannot resolve names', async () => {
    const code = `
import socket
try:
    socket.getaddrinfo('example.com', 443)
    print('resolved')
except OSError:
    print('no dns')`;
    expect(await verdict(code)).toBe('no dns');
  });

  it('cannot send UDP anywhere', async () => {
    const code = `
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.sendto(b'x', ('8.8.8.8', 53))
    print('sent')
except OSError:
    print('unreachable')`;
    expect(await verdict(code)).toBe('unreachable');
  });

  it('has no interface but loopback', async () => {
    expect(await verdict('import socket\nprint([name for _, name in socket.if_nameindex()])')).toBe("['lo']");
  });

  it("cannot reach the host's Unix sockets", async () => {
    const code = `
import os
print([p for p in ['/var/run/postgresql', '/run/postgresql', '/var/run/redis', '/run/docker.sock', '/tmp/.s.PGSQL.5432'] if os.path.exists(p)])`;
    expect(await verdict(code)).toBe('[]');
  });
});

describe("the host's environment, files and processes", () => {
  it("does not see the worker's environment, in any process", async () => {
    const code = `
import os
seen = [open(f'/proc/{pid}/environ', 'rb').read() for pid in os.listdir('/proc') if pid.isdigit()]
print(any(b'${CANARY}' in text or b'REDIS_URL' in text for text in seen), sorted(os.environ))`;
    expect(await verdict(code)).toBe(
      "False ['HOME', 'LANG', 'MPLBACKEND', 'MPLCONFIGDIR', 'OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'PATH', 'PWD', 'PYTHONUNBUFFERED']",
    );
  });

  it('reads /proc/1/environ as empty', async () => {
    expect(await verdict("print(repr(open('/proc/1/environ').read()))")).toBe("''");
  });

  it('finds no /etc/shadow nor /etc/passwd', async () => {
    const code = `
import os
print([p for p in ['/etc/shadow', '/etc/passwd', '/etc/hosts', '/root', '/home'] if os.path.exists(p)])`;
    expect(await verdict(code)).toBe('[]');
  });

  it("does not see the worker's files or the repository", async () => {
    const repository = process.cwd();
    expect(existsSync(repository)).toBe(true);
    const code = `
import os
print([p for p in [${JSON.stringify(repository)}, '/work', '/app', '/usr/local/bin/node', '/usr/bin/node'] if os.path.exists(p)])`;
    expect(await verdict(code)).toBe('[]');
  });

  it('sees only repl.py of Threadwork, read-only', async () => {
    const code = `
import os
print(os.listdir('/sandbox'))
try:
    open('/sandbox/repl.py', 'a').write('#')
except OSError as error:
    print('refused', error.errno)`;
    expect(await verdict(code)).toMatch(/^\['repl.py'\]\nrefused (13|30)$/);
  });

  it("sees none of the host's processes", async () => {
    const code = `
import os
names = sorted(open(f'/proc/{pid}/comm').read().strip() for pid in os.listdir('/proc') if pid.isdigit())
print(names)`;
    expect(await verdict(code)).toBe("['bwrap', 'python3']");
  });

  it("cannot open the worker's process by its host pid", async () => {
    const code = `
import os
print(os.path.exists('/proc/${process.pid}/environ') and ${process.pid} > 2)`;
    expect(await verdict(code)).toBe('False');
  });

  it('runs as nobody without capabilities', async () => {
    const code = `
import os
caps = [line.split()[1] for line in open('/proc/self/status') if line.startswith('CapEff')]
print(os.getuid(), os.getgid(), caps)`;
    expect(await verdict(code)).toBe("65534 65534 ['0000000000000000']");
  });

  it('cannot make namespaces or mount anything', async () => {
    const code = `
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
print(libc.unshare(0x10000000), libc.unshare(0x00020000), libc.mount(b'none', b'/mnt/data', b'tmpfs', 0, None))`;
    expect(await verdict(code)).toBe('-1 -1 -1');
  });

  it('cannot signal the sandbox init', async () => {
    const code = `
import os, signal
try:
    os.kill(1, signal.SIGKILL)
except OSError as error:
    print('refused', error.errno)
print('still here')`;
    expect(await verdict(code)).toMatch(/still here$/);
  });

  it('has no /sys', async () => {
    expect(await verdict("import os\nprint(os.path.exists('/sys/class/net'))")).toBe('False');
  });
});

describe('writes outside /mnt/data', () => {
  it('cannot write to the Python installation, /etc, / or /dev', async () => {
    const code = `
for path in ['/usr/lib/python3/dist-packages/evil.py', '/etc/evil', '/evil', '/dev/evil', '/dev/shm/evil']:
    try:
        open(path, 'w').write('x')
        print('wrote', path)
    except OSError as error:
        print('refused', error.errno)`;
    expect(await verdict(code)).not.toMatch(/wrote/);
  });

  it("keeps /tmp private to the session, off the host's /tmp", async () => {
    const name = `tw-sandbox-${newId('call')}`;
    const first = await verdict(`open('/tmp/${name}', 'w').write('x')\nprint('ok')`);
    expect(first).toBe('ok');
    expect(existsSync(`/tmp/${name}`)).toBe(false);
    expect(await verdict(`import os\nprint(os.path.exists('/tmp/${name}'))`)).toBe('False');
  });
});

describe('symlinks', () => {
  it('resolve inside the sandbox: a link to a host secret finds nothing', async () => {
    const code = `
import os
os.symlink('/etc/shadow', '/mnt/data/shadow')
os.symlink(${JSON.stringify(`${process.cwd()}/package.json`)}, '/mnt/data/package.json')
for name in ['shadow', 'package.json']:
    try:
        open('/mnt/data/' + name).read()
        print('read', name)
    except OSError as error:
        print('missing', error.errno)`;
    expect(await verdict(code)).toBe('missing 2\nmissing 2');
  });

  it('are never handed back as files', async () => {
    const result = await sandbox.run(
      "import os\nos.symlink('/proc/1/environ', '/mnt/data/environ')\nopen('/mnt/data/real.txt', 'w').write('real')",
    );
    expect(result.files.map((file) => file.name)).toEqual(['real.txt']);
  });

  it('cannot hard-link a file of the installation into /mnt/data', async () => {
    const code = `
import os
try:
    os.link('/usr/lib/python3.11/os.py', '/mnt/data/os.py')
    print('linked')
except OSError as error:
    print('refused', error.errno)`;
    expect(await verdict(code)).toBe('refused 18');
  });
});

describe('resources', () => {
  it('stops a fork bomb at the process limit', async () => {
    const code = `
import os
count = 0
try:
    while True:
        if os.fork() == 0:
            import time
            time.sleep(60)
        count += 1
except OSError as error:
    print('stopped after', count, 'errno', error.errno)`;
    expect(await verdict(code)).toMatch(/^stopped after \d+ errno 11$/);
  });

  it('answers MemoryError to one huge allocation, and the session lives on', async () => {
    const threadId = newId('thread');
    await verdict('kept = 7', threadId);
    const code = `
try:
    block = bytearray(4 * 1024 ** 3)
except MemoryError:
    print('MemoryError')`;
    expect(await verdict(code, threadId)).toBe('MemoryError');
    expect(await verdict('print(kept)', threadId)).toBe('7');
  });

  it('answers MemoryError to memory grown step by step', async () => {
    const code = `
chunks = []
try:
    while True:
        chunks.append(bytearray(32 * 1024 ** 2))
except MemoryError:
    size = len(chunks)
    chunks = None
    print('MemoryError after', size)`;
    expect(await verdict(code)).toMatch(/^MemoryError after \d+$/);
  });

  it('refuses a file over the size limit', async () => {
    const code = `
try:
    with open('/mnt/data/big', 'wb') as f:
        f.write(b'x' * (9 * 1024 * 1024))
except OSError as error:
    print('refused', error.errno)`;
    expect(await verdict(code)).toBe('refused 27');
  });

  it('fills /mnt/data no further than its size', async () => {
    const code = `
written = 0
try:
    for i in range(100):
        with open(f'/mnt/data/part{i}', 'wb') as f:
            f.write(b'x' * (4 * 1024 * 1024))
        written += 1
except OSError as error:
    print('refused', error.errno, 'after', written)`;
    expect(await verdict(code)).toMatch(/^refused 28 after [0-4]$/);
  });

  it('fills /tmp no further than its size', async () => {
    const code = `
written = 0
try:
    for i in range(100):
        with open(f'/tmp/part{i}', 'wb') as f:
            f.write(b'x' * (4 * 1024 * 1024))
        written += 1
except OSError as error:
    print('refused', error.errno, 'after', written)`;
    expect(await verdict(code)).toMatch(/^refused 28 after [0-4]$/);
  });

  it('stops an infinite loop at the wall time, and the thread gets a new session', async () => {
    const threadId = newId('thread');
    await verdict('kept = 1', threadId);
    const looped = await sandbox.run('while True:\n    pass', { threadId });
    expect(looped.isError).toBe(true);
    expect(looped.logs).toMatch(/did not finish within 6 s/);
    const after = await sandbox.run("print('kept' in globals())", { threadId });
    expect(after).toMatchObject({ logs: 'False\n', session: 'new' });
  });

  it('keeps only the first bytes of gigabytes printed', async () => {
    const result = await sandbox.run("import sys\nwhile True:\n    sys.stdout.write('x' * 1_000_000)");
    expect(result.isError).toBe(true);
    expect(result.logs.length).toBeLessThan(MAX_OUTPUT + 400);
  });

  it('caps open files', async () => {
    const code = `
files = []
try:
    while True:
        files.append(open('/proc/self/status'))
except OSError as error:
    print('refused', error.errno, len(files) < 300)`;
    expect(await verdict(code)).toMatch(/^refused 24 True/);
  });

  it('ends daemons with the call that started them', async () => {
    const threadId = newId('thread');
    const code = `
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(1.5)
        open('/mnt/data/daemon-was-here', 'w').write('x')
    os._exit(0)
print('started')`;
    expect(await verdict(code, threadId)).toBe('started');
    const check = `
import os, time
time.sleep(2)
print(sorted(open(f'/proc/{p}/comm').read().strip() for p in os.listdir('/proc') if p.isdigit()), os.path.exists('/mnt/data/daemon-was-here'))`;
    expect(await verdict(check, threadId)).toBe("['bwrap', 'python3'] False");
  });

  it('survives code that kills its own process', async () => {
    const threadId = newId('thread');
    const killed = await sandbox.run('import os, signal\nos.kill(os.getpid(), signal.SIGKILL)', { threadId });
    expect(killed.isError).toBe(true);
    expect(killed.logs).toMatch(/Python process ended/);
    expect(await verdict('print("back")', threadId)).toBe('back');
  });
});
