"""Which files in an output folder a tool made, and for which job, so that a tool
replaces only its own files: the same job (same inputs and options) rewrites them,
another job's only with --overwrite, and a file the tool did not make never.

Each tool keeps one record per folder, the hidden file `.videogan-TOOL.jsonl`: a
header line naming the tool, then one line per file written, {"name", "job",
"about", "size", "mtime_ns"}, appended once the file is complete under its temporary
name and before it is renamed into place (a rename keeps both). A file is the tool's
only when a line's size and time still match it: recognised by what it is, never by
name alone. A line torn by an interrupt is ignored, so its file counts as not the tool's.

A tool whose output folder shows one run's files (utils/generate.py) calls
Record.remove_others once every file of its run is written: the files it made there
for earlier runs that this run did not rewrite are removed (a file changed since, or
not the tool's, is kept), so nothing is lost when a run stops part way.
"""
import hashlib
import json
import os

from base.safe_files import OutputError, atomic_path, write_text

STAMP = ('size', 'mtime_ns')


def record_path(folder, tool):
    """The record of tool (e.g. 'utils/generate.py') in folder."""
    return os.path.join(folder, f'.videogan-{os.path.basename(tool).rsplit(".", 1)[0]}.jsonl')


def job_key(*parts):
    """A short hash of parts (JSON-able): what determines a file's content."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode('utf-8')).hexdigest()[:24]


def file_digest(path):
    """The sha256 of the bytes of the file at path (its identity, wherever it moves)."""
    digest = hashlib.sha256()
    with open(path, 'rb') as data:
        for block in iter(lambda: data.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def _stamp(path):
    stat = os.stat(path)
    return {'size': stat.st_size, 'mtime_ns': stat.st_mtime_ns}


def _row(line):
    try:
        row = json.loads(line)
    except ValueError:
        return None  # a line torn by an interrupt
    return row if isinstance(row, dict) else None


def read_record(folder, tool):
    """{file name: [its lines, oldest first]} of tool's record in folder ({} when there
    is none); OutputError when the file at the record's name is not tool's record."""
    path = record_path(folder, tool)
    if not os.path.lexists(path):
        return {}
    try:
        with open(path, encoding='utf-8') as lines:
            rows = [_row(line) for line in lines]
    except (OSError, UnicodeDecodeError) as err:
        raise OutputError(f'{path}: cannot read the record of {tool} ({err})') from None
    if os.path.islink(path) or not rows or rows[0] != {'tool': tool}:
        raise OutputError(f'{path}: not a record that {tool} wrote; move it away')
    entries = {}
    for row in rows[1:]:
        if row and isinstance(row.get('name'), str) and isinstance(row.get('job'), str):
            entries.setdefault(row['name'], []).append(row)
    return entries


def made_by(path, rows):
    """The newest of rows that records the file at path as it is now, or None."""
    if os.path.islink(path) or not os.path.isfile(path):
        return None
    stamp = _stamp(path)
    matching = [row for row in rows if all(row.get(key) == stamp[key] for key in STAMP)]
    return matching[-1] if matching else None


def refusal(folder, name, job, rows, tool, overwrite, option):
    """Why tool may not write `name` in folder for job, or None when it may."""
    path = os.path.join(folder, name)
    if not os.path.lexists(path):
        return None
    row = made_by(path, rows)
    if row is None:
        what = f'was changed after {tool} made it' if rows else f'is not a file that {tool} made'
        return (f'{name} {what}, so it is never replaced; pass another {option} or move the'
                ' file away')
    if row['job'] != job and not overwrite:
        return (f'{name} was made by {tool} from other inputs or options'
                f' ({row.get("about") or "an earlier job"}); pass another {option}, or'
                f' --overwrite to replace what {tool} made')
    return None


def claim(folder, jobs, tool, overwrite, option, about='', shown=None):
    """The Record to write jobs' files ({name: job key}) in folder, once each is checked:
    absent, or tool's for the same job (for any job with overwrite). OutputError
    `OPTION SHOWN: ...` (shown: folder unless given) naming the first file refused.
    about: the job in words, shown to another job. Lines of files gone are dropped."""
    entries = read_record(folder, tool)
    for name, job in jobs.items():
        reason = (f'{name} is the record of {tool}' if name == os.path.basename(
            record_path(folder, tool)) else
            refusal(folder, name, job, entries.get(name, []), tool, overwrite, option))
        if reason:
            raise OutputError(f'{option} {shown or folder}: {reason}')
    kept = [made_by(os.path.join(folder, name), rows) for name, rows in entries.items()]
    lines = [{'tool': tool}] + [row for row in kept if row]
    write_text(record_path(folder, tool), ''.join(json.dumps(row) + '\n' for row in lines))
    return Record(folder, tool, jobs, about)


class Record:
    """Writes the claimed files of one run, recording each as it completes."""

    def __init__(self, folder, tool, jobs, about):
        self.folder, self.tool, self.jobs, self.about = folder, tool, jobs, about

    def write(self, name, writer):
        """writer(path) writes the file; it is recorded, then renamed to `name`."""
        with atomic_path(os.path.join(self.folder, name)) as partial:
            writer(partial)
            row = {'name': name, 'job': self.jobs[name], 'about': self.about,
                   **_stamp(partial)}
            with open(record_path(self.folder, self.tool), 'a', encoding='utf-8') as out:
                out.write(json.dumps(row) + '\n')

    def remove_others(self):
        """Remove the files the tool made in the folder that this run did not claim,
        each only while it is still as the tool made it; their names, sorted."""
        removed = []
        for name, rows in sorted(read_record(self.folder, self.tool).items()):
            path = os.path.join(self.folder, name)
            if name not in self.jobs and os.path.basename(name) == name and made_by(path, rows):
                os.remove(path)
                removed.append(name)
        return removed
