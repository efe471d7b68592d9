"""The quick run (`make test-quick`: -m "not subprocess") leaves out exactly the tests that
launch a process: every test that calls subprocess (itself, or through a helper or fixture of
its module) is marked `subprocess`, and no other test is."""
import ast
import glob
import os

import pytest

from tests.conftest import ROOT

LAUNCHERS = {'run', 'Popen', 'call', 'check_call', 'check_output'}


def launches(function):
    """Whether a function's body calls subprocess.run, Popen, ... by name."""
    return any(isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
               and node.func.attr in LAUNCHERS and isinstance(node.func.value, ast.Name)
               and node.func.value.id == 'subprocess' for node in ast.walk(function))


def used_names(function):
    """The functions a function calls by name and the fixtures it asks for."""
    called = {node.func.id for node in ast.walk(function)
              if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    return called | {arg.arg for arg in function.args.args}


def launching(functions):
    """The names among functions that launch a process, directly or through one another."""
    found = {name for name, function in functions.items() if launches(function)}
    grown = True
    while grown:
        more = {name for name, function in functions.items()
                if name not in found and used_names(function) & found}
        found |= more
        grown = bool(more)
    return found


def is_subprocess_mark(node):
    """`pytest.mark.subprocess`, or a list of marks holding it."""
    if isinstance(node, (ast.List, ast.Tuple)):
        return any(is_subprocess_mark(element) for element in node.elts)
    return ast.unparse(node) == 'pytest.mark.subprocess'


def module_marked(tree):
    return any(isinstance(node, ast.Assign) and is_subprocess_mark(node.value)
               and any(getattr(target, 'id', '') == 'pytestmark' for target in node.targets)
               for node in tree.body)


def marking(path):
    """(tests that launch a process, tests marked subprocess) of one test file."""
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read())
    functions = {node.name: node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    tests = {name: f for name, f in functions.items() if name.startswith('test_')}
    everything = module_marked(tree)
    marked = {name for name, f in tests.items()
              if everything or any(is_subprocess_mark(d) for d in f.decorator_list)}
    return set(tests) & launching(functions), marked


def suite_files():
    return sorted(glob.glob(os.path.join(ROOT, 'tests', '**', 'test_*.py'), recursive=True))


def test_the_finder_sees_a_launch_through_a_helper_and_a_mark():
    tree = ast.parse('import subprocess, pytest\n'
                     'def helper():\n    return subprocess.run(["x"])\n'
                     'def test_a():\n    helper()\n'
                     '@pytest.mark.subprocess\ndef test_b():\n    pass\n'
                     'def test_c(tmp_path):\n    pass\n')
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert launching(functions) == {'helper', 'test_a'}
    assert [is_subprocess_mark(d) for d in functions['test_b'].decorator_list] == [True]


@pytest.mark.parametrize('path', suite_files(), ids=lambda p: os.path.relpath(p, ROOT))
def test_exactly_the_tests_that_launch_a_process_are_marked(path):
    launched, marked = marking(path)
    assert not launched - marked, f'launch a process, not marked subprocess: {launched - marked}'
    assert not marked - launched, f'marked subprocess, launch none: {marked - launched}'
