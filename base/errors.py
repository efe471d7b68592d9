"""The one kind of error a user can fix: every script reports it as one line and exits 2."""


class UserError(ValueError):
    """A bad input (file, option, config value) described in one line that names it."""
