"""The project's own files (the shipped models, its setup.ini), found from where this package
lives and never from the current folder, so that a script run from any folder uses the same
ones; and where a relative path of a configuration the user did not name is looked up.
"""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def project_path(*parts):
    """The absolute path of a file of the project, e.g. project_path('models', 'generator.npz')."""
    return os.path.join(ROOT, *parts)


def locate(path):
    """A path named by a configuration the user did not name (a model file's settings, the
    project's setup.ini): itself when absolute or present from the current folder, else the
    project's path of that name when present there (training runs from the project folder),
    else None."""
    if os.path.isabs(path) or os.path.exists(path):
        return path if os.path.exists(path) else None
    inside = project_path(path)
    return inside if os.path.exists(inside) else None
