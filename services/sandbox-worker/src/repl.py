# The Python side of a code_interpreter session, run inside the sandbox: reads one JSON request per line on stdin,
# runs its code in one namespace kept for the session, and answers one JSON line with the logs, figures and files.
import ast
import base64
import io
import json
import os
import signal
import sys
import traceback

DATA_DIR = '/mnt/data'
MAX_LOG_BYTES = int(sys.argv[1])
MAX_RETURN_BYTES = int(sys.argv[2])

answers = os.fdopen(os.dup(1), 'w', encoding='utf-8')
SESSION_PID = os.getpid()
# Opened once for the session, so that collecting a call's output needs no new descriptor (the code may use them all).
OUTPUT_FD = os.open('/run/output/call', os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
NULL_FD = os.open(os.devnull, os.O_RDWR)
namespace = {'__name__': '__main__', '__builtins__': __builtins__}


def flush_quietly():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass


def point_output_at(fd):
    flush_quietly()
    os.dup2(fd, 1)
    os.dup2(fd, 2)


def start_output():
    os.ftruncate(OUTPUT_FD, 0)
    os.lseek(OUTPUT_FD, 0, os.SEEK_SET)
    point_output_at(OUTPUT_FD)


def snapshot():
    seen = {}
    for name in os.listdir(DATA_DIR):
        path = os.path.join(DATA_DIR, name)
        if os.path.isfile(path) and not os.path.islink(path):
            stat = os.stat(path)
            seen[name] = (stat.st_mtime_ns, stat.st_size)
    return seen


def write_inputs(files):
    """The thread's files, each written once per session: a file the code changed since is left as it is."""
    for item in files:
        path = os.path.join(DATA_DIR, os.path.basename(item['name']))
        if os.path.lexists(path):
            continue
        with open(path, 'wb') as handle:
            handle.write(base64.b64decode(item['data']))


def run(code):
    """Runs the code as a notebook cell: the value of a final expression is printed. Answers whether it failed."""
    try:
        tree = ast.parse(code, '<code>', 'exec')
        last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        if last is not None:
            tree.body.pop()
        exec(compile(tree, '<code>', 'exec'), namespace)
        if last is not None:
            value = eval(compile(ast.Expression(last.value), '<code>', 'eval'), namespace)
            if value is not None:
                print(repr(value))
        return False
    except BaseException as error:  # noqa: BLE001 - every failure of the code is output the model reads
        frames = error.__traceback__.tb_next if error.__traceback__ else None
        traceback.print_exception(type(error), error, frames)
        return True


def stop_other_processes():
    """Whatever the code started (daemons included) ends with the call: everything in the sandbox but this process."""
    try:
        os.kill(-1, signal.SIGKILL)
    except ProcessLookupError:
        pass
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def read_logs():
    data = os.pread(OUTPUT_FD, MAX_LOG_BYTES + 1, 0)
    truncated = len(data) > MAX_LOG_BYTES
    return data[:MAX_LOG_BYTES].decode('utf-8', 'replace'), truncated


def figures():
    pyplot = sys.modules.get('matplotlib.pyplot')
    if pyplot is None:
        return []
    images = []
    for number in pyplot.get_fignums():
        buffer = io.BytesIO()
        pyplot.figure(number).savefig(buffer, format='png')
        images.append(base64.b64encode(buffer.getvalue()).decode('ascii'))
    pyplot.close('all')
    return images


def changed_files(before):
    files, budget, left_out = [], MAX_RETURN_BYTES, []
    for name, state in sorted(snapshot().items()):
        if before.get(name) == state:
            continue
        size = state[1]
        if size > budget:
            left_out.append(name)
            continue
        with open(os.path.join(DATA_DIR, name), 'rb') as handle:
            files.append({'name': name, 'data': base64.b64encode(handle.read(size)).decode('ascii')})
        budget -= size
    return files, left_out


def collect(what, work, empty, notes):
    """Runs one step of collecting a call's results; a failure (the code used every descriptor, say) becomes a note."""
    try:
        return work()
    except Exception as error:  # noqa: BLE001 - the call is answered whatever the code left behind
        notes.append(f'[The sandbox could not collect the {what}: {error}]')
        return empty


def answer(request):
    notes = []
    collect('input files', lambda: write_inputs(request.get('files', [])), None, notes)
    before = collect('files of /mnt/data', snapshot, {}, notes)
    start_output()
    failed = run(request['code'])
    if os.getpid() != SESSION_PID:
        os._exit(0)  # a process the code forked got here: only the session answers
    flush_quietly()
    stop_other_processes()
    images = collect('figures', figures, [], notes)
    point_output_at(NULL_FD)
    logs, truncated = read_logs()
    files, left_out = collect('files of /mnt/data', lambda: changed_files(before), ([], []), notes)
    return {
        'id': request['id'],
        'logs': '\n'.join([logs, *notes]) if notes else logs,
        'logs_truncated': truncated,
        'failed': failed or bool(notes),
        'images': images,
        'files': files,
        'files_left_out': left_out,
    }


def main():
    sys.stdout.reconfigure(line_buffering=True)
    point_output_at(NULL_FD)
    requests = os.fdopen(os.dup(0), 'r', encoding='utf-8')
    os.dup2(NULL_FD, 0)
    answers.write(json.dumps({'ready': True}) + '\n')
    answers.flush()
    for line in requests:
        answers.write(json.dumps(answer(json.loads(line))) + '\n')
        answers.flush()


main()
