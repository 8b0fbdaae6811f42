"""The tutor eval suite: cases as data, a solver that drives the engine, cheap scorers.

Solver and scorers are small functions in the inspect_ai style: a solver turns a case
into a transcript, a scorer turns a transcript into a score. Nothing here does work at
import time; the model is loaded only when a case misses the cache.
"""
