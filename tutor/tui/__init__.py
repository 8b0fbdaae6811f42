"""The learner's terminal app (Textual): chat, predictions, sources, calculator, progress.

Only this package imports Textual; the engine never imports it.
"""
