"""Pure matching engine: documents in, ranked cross-border pairs out. No I/O frameworks."""

from matcher.tfidf import TfidfMatcher
from matcher.types import PairScore, ProfileDoc

__all__ = ["PairScore", "ProfileDoc", "TfidfMatcher"]
