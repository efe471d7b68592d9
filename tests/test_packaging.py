"""What installing the project promises: pyproject.toml, the requirements files, constraints.txt
and the Makefile agree with each other and with the code (read as text; no network)."""
import importlib
import importlib.metadata
import inspect
import os
import re
import sys

import chainer
import pytest

from tests.conftest import ROOT

tomllib = pytest.importorskip('tomllib', reason='tomllib: Python 3.11+')
packaging_requirements = pytest.importorskip('packaging.requirements')
packaging_utils = pytest.importorskip('packaging.utils')

EXTRAS = ('fast', 'gpu', 'mpi', 'dev')
SCRIPTS_OUTSIDE_PACKAGES = {'bench', 'research', 'tests', 'tools'}


def read(name):
    with open(os.path.join(ROOT, name)) as f:
        return f.read()


@pytest.fixture(scope='module')
def project():
    with open(os.path.join(ROOT, 'pyproject.toml'), 'rb') as f:
        return tomllib.load(f)


def requirement(line):
    return packaging_requirements.Requirement(line)


def name_of(req):
    return packaging_utils.canonicalize_name(req.name)


def requirement_lines(path):
    """The non-option lines and options of a requirements file, comments dropped."""
    lines = []
    with open(path) as f:
        for raw in f:
            line = re.sub(r'(^|\s)#.*', '', raw).strip()
            if line:
                lines.append(line)
    return lines


def installed_by(path, project):
    """Every requirement a requirements file installs, following -r and resolving the
    project itself (`-e .`, `-e .[extra]`) to pyproject.toml's dependencies."""
    reqs = []
    for line in requirement_lines(path):
        if line.startswith(('-r ', '--requirement ')):
            reqs += installed_by(os.path.join(os.path.dirname(path), line.split()[1]), project)
        elif re.fullmatch(r'(-e\s+)?\.(\[[\w,]+\])?', line):
            extras = re.findall(r'\[([\w,]+)\]', line)
            reqs += [requirement(r) for r in project['project']['dependencies']]
            for extra in (extras[0].split(',') if extras else []):
                reqs += [requirement(r) for r in project['project']['optional-dependencies'][extra]]
        elif not line.startswith('-'):
            reqs.append(requirement(line))
    return reqs


def constraints():
    pins = {}
    for line in requirement_lines(os.path.join(ROOT, 'constraints.txt')):
        name, _, version = line.partition('==')
        assert version and not version.startswith('='), f'constraints.txt: {line!r} is no exact pin'
        pins[packaging_utils.canonicalize_name(name)] = version
    return pins


def makefile_lines():
    return read('Makefile').replace('$(VENV)', '.venv').splitlines()


def makefile_rule(target):
    """The prerequisites and recipe lines of one Makefile rule ($(VENV) read as .venv)."""
    lines = makefile_lines()
    for i, line in enumerate(lines):
        if line.startswith(target + ':') and not line.startswith(target + ':='):
            recipe = []
            for following in lines[i + 1:]:
                if not following.startswith('\t'):
                    break
                recipe.append(following.strip())
            return line[len(target) + 1:].split(), recipe
    raise AssertionError(f'Makefile has no rule {target}')


def makefile_targets():
    targets = set()
    for line in makefile_lines():
        match = re.match(r'([^\s:=#][^:=]*):(?!=)', line)
        if match:
            targets.update(match.group(1).split())
    return targets


@pytest.mark.parametrize('command', ['videogan-train', 'videogan-generate', 'videogan-evaluate'])
def test_every_console_command_names_a_main_that_takes_no_arguments(project, command):
    target = project['project']['scripts'][command]
    module_name, _, function_name = target.partition(':')
    function = getattr(importlib.import_module(module_name), function_name)
    assert callable(function)
    inspect.signature(function).bind()  # the console script calls sys.exit(main())


def test_console_command_returns_the_scripts_exit_code(project, capsys):
    target = project['project']['scripts']['videogan-generate']
    module_name, _, function_name = target.partition(':')
    main = getattr(importlib.import_module(module_name), function_name)
    assert main(['--seeds', 'x']) == 2  # a bad input: one line on stderr, exit code 2
    assert capsys.readouterr().err.startswith('error: ')


def test_requirements_txt_installs_the_project_with_its_dependencies():
    assert '-e .' in requirement_lines(os.path.join(ROOT, 'requirements.txt'))


def test_every_library_folder_is_an_installed_package_and_bench_is_not(project):
    packages = set(project['tool']['setuptools']['packages'])
    folders = {name for name in os.listdir(ROOT)
               if os.path.isfile(os.path.join(ROOT, name, '__init__.py'))}
    assert folders - SCRIPTS_OUTSIDE_PACKAGES == packages
    assert 'bench' not in packages
    for module in project['tool']['setuptools']['py-modules']:
        assert os.path.isfile(os.path.join(ROOT, module + '.py'))


def test_the_extras_exist_with_what_they_are_for(project):
    extras = project['project']['optional-dependencies']
    names = {extra: {name_of(requirement(r)) for r in extras.get(extra, [])} for extra in EXTRAS}
    assert 'torch' in names['fast'] and 'mpi4py' in names['mpi']
    assert any(name.startswith('cupy') for name in names['gpu'])
    assert {'pytest', 'mpi4py', 'mpich'} <= names['dev']
    runtime = {name_of(requirement(r)) for r in project['project']['dependencies']}
    assert not runtime & {'pytest', 'mpi4py', 'mpich', 'torch'}, 'tools in the runtime'
    assert 'tqdm' in runtime


def test_requirements_fast_pins_the_torch_of_the_fast_extra(project):
    fast = [str(requirement(r)) for r in project['project']['optional-dependencies']['fast']]
    listed = [str(r) for r in installed_by(os.path.join(ROOT, 'requirements-fast.txt'), project)]
    assert listed == fast


@pytest.mark.parametrize('name', ['requirements.txt', 'requirements-fast.txt',
                                  'requirements-dev.txt'])
def test_constraints_pin_every_requirement_at_a_version_it_allows(project, name):
    pins = constraints()
    for req in installed_by(os.path.join(ROOT, name), project):
        if req.marker is not None and not req.marker.evaluate():
            continue
        assert name_of(req) in pins, f'{name}: {req} has no pin in constraints.txt'
        assert req.specifier.contains(pins[name_of(req)], prereleases=True), \
            f'constraints.txt pins {req.name}=={pins[name_of(req)]}, which {name} excludes ({req})'


def test_the_gpu_error_names_an_install_command_that_exists(project, monkeypatch):
    from base.devices import DeviceError, device_for
    monkeypatch.setattr(chainer.backends.cuda, 'available', False)
    with pytest.raises(DeviceError) as caught:
        device_for(0)
    message = str(caught.value)
    targets, extras = re.findall(r'make ([\w-]+)', message), re.findall(r'\.\[(\w+)\]', message)
    assert targets and extras, message
    for target in targets:
        makefile_rule(target)
    for extra in extras:
        assert extra in project['project']['optional-dependencies'], message


def test_make_train_installs_no_test_tools_and_make_test_does():
    targets = makefile_targets()

    def recipes(target, seen):
        prerequisites, recipe = makefile_rule(target)
        names = ' '.join(prerequisites).replace('$(SETUP)', 'setup setup-fast').split()
        for name in names:
            if name in targets and name not in seen:
                seen.add(name)
                recipe = recipe + recipes(name, seen)
        return recipe
    train, test = ' '.join(recipes('train', set())), ' '.join(recipes('test', set()))
    assert 'requirements-dev.txt' not in train and 'pytest' not in train
    assert 'requirements-dev.txt' in test
    assert '-r requirements.txt' in train and '-r requirements-fast.txt' in train


def test_every_setup_install_is_pinned_by_constraints():
    for target in ('.venv/.installed', '.venv/.installed-fast', '.venv/.installed-dev'):
        _, recipe = makefile_rule(target)
        installs = [line for line in ' '.join(recipe).split(';') if ' -r ' in line]
        assert installs, target
        assert all('$(PIN)' in line or '-c constraints.txt' in line for line in installs), target
    assert 'PIN := -c constraints.txt' in read('Makefile')


def test_requires_python_admits_this_python_and_is_the_range_the_readme_states(project):
    specifier = packaging_requirements.Requirement(
        'python' + project['project']['requires-python']).specifier
    assert specifier.contains('.'.join(map(str, sys.version_info[:3])))
    minors = [m for m in range(6, 20) if specifier.contains(f'3.{m}.0')]
    stated = f'3.{minors[0]}–3.{minors[-1]}'
    for low, high in re.findall(r'Python (3\.\d+)\s*[–-]\s*(3\.\d+)', read('README.md')):
        assert f'{low}–{high}' == stated, f'README says Python {low}–{high}; pyproject {stated}'


def test_torchs_setuptools_requirement_is_met_so_pip_reports_no_conflict():
    """setup-fast used to put setuptools<70 back after torch, and pip printed an ERROR line."""
    try:
        requires = importlib.metadata.requires('torch') or []
    except importlib.metadata.PackageNotFoundError:
        pytest.skip('torch is not installed')
    for line in requires:
        req = requirement(line)
        if name_of(req) == 'setuptools' and (req.marker is None or req.marker.evaluate()):
            installed = importlib.metadata.version('setuptools')
            assert req.specifier.contains(installed), f'setuptools {installed}; torch: {req}'


def test_the_readme_says_how_ranks_map_to_gpus_as_main_train_maps_them():
    """Issue 35, item 3: the multi-GPU text names the mapping the code uses, a launch
    without a hostfile, where NCCL comes from, and that mpich is for one machine."""
    readme = open(os.path.join(ROOT, 'README.md'), encoding='utf-8').read()
    source = open(os.path.join(ROOT, 'main_train.py'), encoding='utf-8').read()
    assert 'world.intra_rank' in source and '`intra_rank`' in readme
    assert re.search(r'^srun .*main_train\.py', readme, re.M)
    assert 'NCCL' in readme and re.search(r'mpich`? an MPI for one machine only', readme)
