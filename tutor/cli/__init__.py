"""Command-line faces of the tutor. Each sub-command group lives in its own module."""
