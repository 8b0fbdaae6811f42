"""The one stopword list: words too common to tell passages or questions apart."""

from __future__ import annotations

STOPWORD_TEXT = (
    "a an and are as at be but by can do does for from has have how i if in "
    "into is it its my no not of on or our so than that the their them then there "
    "these they this to was we what when where which who why will with you your"
)
# 'vs' sits in many comparison headings ("MIG vs time-slicing") and would pull those
# forward for any question phrased as a comparison, whatever it compares.
STOPWORDS = frozenset(STOPWORD_TEXT.split()) | {"vs", "versus"}
