"""base/made_files.py: a tool replaces only the files it made, recognised by its record."""
import os

import pytest

from base.made_files import claim, read_record, record_path
from base.safe_files import OutputError

TOOL = 'utils/tool.py'


def make(folder, jobs, overwrite=False):
    """Check jobs' files in folder, then write each (its job as its text)."""
    record = claim(str(folder), jobs, TOOL, overwrite, '--out')
    for name, job in jobs.items():
        record.write(name, lambda path: open(path, 'w').write(job))


def test_a_record_the_tool_did_not_write_is_never_replaced(tmp_path):
    path = record_path(str(tmp_path), TOOL)
    with open(path, 'w') as out:
        out.write('my notes\n')
    with pytest.raises(OutputError, match=r'\.videogan-tool\.jsonl: not a record that'
                                          r' utils/tool\.py wrote; move it away'):
        claim(str(tmp_path), {'a.gif': 'job'}, TOOL, True, '--out')
    assert open(path).read() == 'my notes\n'


def test_a_torn_line_leaves_its_file_unrecognised_and_kept(tmp_path):
    make(tmp_path, {'a.gif': 'job', 'b.gif': 'job'})
    path = record_path(str(tmp_path), TOOL)
    lines = open(path).read().splitlines(keepends=True)
    with open(path, 'w') as out:  # an interrupt while b.gif's line was written
        out.write(''.join(lines[:-1]) + lines[-1][:10])
    assert set(read_record(str(tmp_path), TOOL)) == {'a.gif'}
    with pytest.raises(OutputError, match='b.gif is not a file that utils/tool.py made'):
        make(tmp_path, {'a.gif': 'job', 'b.gif': 'job'}, overwrite=True)
    assert (tmp_path / 'b.gif').read_text() == 'job'


def test_a_file_is_recorded_only_once_complete(tmp_path):
    def fails(path):
        open(path, 'w').write('half')
        raise KeyboardInterrupt
    record = claim(str(tmp_path), {'a.gif': 'job'}, TOOL, False, '--out')
    with pytest.raises(KeyboardInterrupt):
        record.write('a.gif', fails)
    assert os.listdir(tmp_path) == [os.path.basename(record_path(str(tmp_path), TOOL))]
    (tmp_path / 'a.gif').write_text('a file put there later')
    with pytest.raises(OutputError, match='a.gif is not a file that'):
        make(tmp_path, {'a.gif': 'job'})


def test_a_link_or_folder_of_that_name_is_never_replaced(tmp_path):
    make(tmp_path, {'a.gif': 'job'})
    os.rename(tmp_path / 'a.gif', tmp_path / 'mine.gif')
    os.symlink(tmp_path / 'mine.gif', tmp_path / 'a.gif')
    with pytest.raises(OutputError, match='a.gif was changed after utils/tool.py made it'):
        make(tmp_path, {'a.gif': 'job'})
    (tmp_path / 'folder.gif').mkdir()
    with pytest.raises(OutputError, match='folder.gif is not a file that'):
        make(tmp_path, {'folder.gif': 'job'})


def test_records_of_files_since_removed_are_dropped(tmp_path):
    make(tmp_path, {'a.gif': 'one', 'b.gif': 'one'})
    (tmp_path / 'a.gif').unlink()
    make(tmp_path, {'c.gif': 'two'})
    assert sorted(read_record(str(tmp_path), TOOL)) == ['b.gif', 'c.gif']
    (tmp_path / 'a.gif').write_text('not the tool\'s')
    with pytest.raises(OutputError, match='a.gif is not a file that'):
        make(tmp_path, {'a.gif': 'one'}, overwrite=True)


def test_remove_others_removes_only_the_tools_own_files_of_earlier_jobs(tmp_path):
    make(tmp_path, {'a.gif': 'one', 'b.gif': 'one', 'c.gif': 'one', 'd.gif': 'one'})
    (tmp_path / 'c.gif').write_text('changed by hand')
    (tmp_path / 'd.gif').unlink()
    (tmp_path / 'd.gif').mkdir()
    (tmp_path / 'mine.txt').write_text('mine')
    record = claim(str(tmp_path), {'a.gif': 'two'}, TOOL, True, '--out')
    record.write('a.gif', lambda path: open(path, 'w').write('two'))
    assert record.remove_others() == ['b.gif']
    assert sorted(os.listdir(tmp_path)) == [
        '.videogan-tool.jsonl', 'a.gif', 'c.gif', 'd.gif', 'mine.txt']
    assert (tmp_path / 'c.gif').read_text() == 'changed by hand'
    assert claim(str(tmp_path), {}, TOOL, False, '--out').remove_others() == ['a.gif']
