"""Imports flow one way (docs/architecture.md): each module imports only modules of its own
layer or of layers below it, no script imports another script, and drawn per folder the
import graph has no arrow running back up."""
import ast
import glob
import os

from tests.conftest import ROOT

# Bottom to top: each folder's layer. A script (below) sits on layer 4 wherever it lives.
FOLDER_LAYERS = {'base': 0, 'datastream': 1, 'nn': 1, 'metrics': 2, 'computations': 3,
                 'utils': 4, 'main_train': 4, 'bench': 5, 'tools': 5, 'research': 5}
SCRIPTS = ['main_train', 'utils.generate', 'utils.evaluate', 'utils.preview_data',
           'utils.convert_seed_checkpoint', 'utils.config_parse',
           'datastream.download_plain', 'datastream.split_video', 'metrics.train_feature_net']
PRODUCT = ('base', 'datastream', 'nn', 'metrics', 'computations', 'utils', 'main_train')


def folder(module):
    return module.split('.')[0]


def layer(module):
    return 4 if module in SCRIPTS else FOLDER_LAYERS[folder(module)]


def project_modules():
    paths = [os.path.join(ROOT, 'main_train.py')]
    for package in FOLDER_LAYERS:
        paths += glob.glob(os.path.join(ROOT, package, '*.py'))
    return {os.path.relpath(p, ROOT)[:-3].replace(os.sep, '.'): p for p in paths
            if not p.endswith('__init__.py')}


def imported(path, modules):
    """The modules among `modules` that the file at path imports (a package import names
    its module)."""
    names = set()
    for node in ast.walk(ast.parse(open(path, encoding='utf-8').read())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.update(f'{node.module}.{alias.name}' for alias in node.names)
            names.add(node.module)
    return {name for name in names if name in modules}


def arrows():
    modules = project_modules()
    return [(module, target) for module, path in sorted(modules.items())
            for target in sorted(imported(path, modules))]


def test_every_listed_script_exists():
    assert set(SCRIPTS) <= set(project_modules()), 'a listed script no longer exists'


def test_every_module_imports_only_downwards():
    upward = [f'{m} (layer {layer(m)}) imports {t} (layer {layer(t)})' for m, t in arrows()
              if layer(t) > layer(m) or layer(m) == layer(t) == 4]
    assert not upward, '\n'.join(upward)


def test_per_folder_no_arrow_runs_back_up():
    """Between folders an import goes strictly down: a folder's scripts import nothing above
    the folder, and folders of one layer (datastream, nn) do not import each other."""
    upward = sorted({f'{folder(m)} -> {folder(t)}' for m, t in arrows()
                     if folder(m) != folder(t)
                     and FOLDER_LAYERS[folder(t)] >= FOLDER_LAYERS[folder(m)]})
    assert not upward, '\n'.join(upward)


def test_the_product_imports_no_research_bench_or_tools():
    lab = [f'{m} imports {t}' for m, t in arrows()
           if folder(m) in PRODUCT and folder(t) not in PRODUCT]
    assert not lab, '\n'.join(lab)
