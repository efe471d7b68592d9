"""docs/architecture.md's layer table names every module of the product, as the tree has it."""
import glob
import os
import re

from tests.conftest import ROOT

PACKAGES = ('utils', 'datastream', 'nn', 'metrics', 'computations')


def product_modules():
    paths = [os.path.join(ROOT, 'main_train.py')]
    for package in PACKAGES:
        paths += glob.glob(os.path.join(ROOT, package, '*.py'))
    return sorted(os.path.relpath(p, ROOT).replace(os.sep, '/') for p in paths
                  if not p.endswith('__init__.py'))


def listed(table, path):
    """Whether the table names path, as `pkg/mod.py` or inside `pkg/` (a, b, ...)."""
    if f'`{path}`' in table:
        return True
    package, _, name = path.rpartition('/')
    for group in re.findall(rf'`{re.escape(package)}/` \(([^)]*)\)', table):
        if name[:-3] in (word.strip() for word in group.split(',')):
            return True
    return False


def test_the_layer_table_names_every_module():
    with open(os.path.join(ROOT, 'docs', 'architecture.md'), encoding='utf-8') as doc:
        table = ''.join(line for line in doc if line.startswith('|'))
    missing = [path for path in product_modules() if not listed(table, path)]
    assert not missing, f'docs/architecture.md does not name: {", ".join(missing)}'
