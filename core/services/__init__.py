"""Use cases as functions: each takes a session first and never commits."""
