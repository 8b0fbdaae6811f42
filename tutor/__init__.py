"""tutor: a Socratic terminal tutor for NVIDIA Multi-Instance GPU."""

__version__ = "0.1.0"
