"""Imports flow one way (docs/architecture.md): each module imports only modules of its own
layer or of layers below it, and no script imports another script."""
import ast
import glob
import os

from tests.conftest import ROOT

# Bottom to top. A module not named in an earlier layer's list belongs to its package's layer.
BASE = ['utils.errors', 'utils.safe_files', 'utils.npz_entries',
        'utils.chainer_compat', 'utils.config_parse', 'utils.memory', 'utils.video_io',
        'utils.devices', 'utils.cli']
SCRIPTS = ['main_train', 'utils.generate', 'utils.evaluate', 'utils.preview_data',
           'utils.convert_seed_checkpoint',
           'datastream.download_plain', 'datastream.split_video', 'metrics.train_feature_net']
PACKAGE_LAYERS = {'datastream': 1, 'nn': 1, 'metrics': 2, 'computations': 3, 'bench': 5,
                  'tools': 5}
PROJECT = ('utils', 'datastream', 'nn', 'metrics', 'computations', 'bench', 'tools', 'main_train')


def layer(module):
    if module in SCRIPTS:
        return 4
    if module in BASE:
        return 0
    return PACKAGE_LAYERS.get(module.split('.')[0], 0)


def project_modules():
    paths = [os.path.join(ROOT, 'main_train.py')]
    for package in PROJECT[:-1]:
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


def test_every_module_has_a_layer_and_imports_only_downwards():
    modules = project_modules()
    assert set(SCRIPTS) | set(BASE) <= set(modules), 'a listed module no longer exists'
    upward = []
    for module, path in sorted(modules.items()):
        for target in sorted(imported(path, modules)):
            script_to_script = layer(module) == layer(target) == 4
            if layer(target) > layer(module) or script_to_script:
                upward.append(f'{module} (layer {layer(module)}) imports {target}'
                              f' (layer {layer(target)})')
    assert not upward, '\n'.join(upward)
