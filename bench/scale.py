"""Speed and memory of the cross-border top-k search, side by side with the alternatives.

In one process and on the same TF-IDF matrices (synthetic profiles of 150-300 words, one
or two MOC fields each, see bench/synthetic.py), for every field:
  * this matcher: one blocked pass that yields both sides' top k (matcher/topk.py);
  * sparse_dot_topn (C++) and sp-matmul-rs (Rust): fused sparse product + top-n, called
    twice (Japanese rows, then Canadian rows) since each gives one side's top n;
  * naive: sklearn cosine_similarity on the dense field matrix, then argsort (only where
    the dense matrix fits; at 100,000 x 100,000 it would need tens of GB).
All use 2 threads where they can. Prints wall time, the peak resident memory added
during the step, the ratio to this matcher, and checks that every method returns the
same top-k scores for every profile on both sides.

Run: .venv/bin/python bench/scale.py --per-side 100000   (and --per-side 10000)
"""

from __future__ import annotations

import argparse
import gc
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numba
import numpy as np
import scipy.sparse as sp
from sklearn.metrics.pairwise import cosine_similarity

from bench.synthetic import synthetic_profiles
from matcher import TfidfMatcher
from matcher.topk import FieldProblem, PairArrays
from matcher.types import CANADA, JAPAN

THREADS = 2
PAGE = os.sysconf("SC_PAGE_SIZE")

# For each field: (JP top-k score rows, CA top-k score rows), each a list of sorted arrays.
SideScores = list[np.ndarray]
Result = dict[str, tuple[SideScores, SideScores]]


def rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


@contextmanager
def measured(label: str, sink: dict[str, tuple[float, int]]) -> Iterator[None]:
    """Wall time and the peak resident memory added while the block runs."""
    gc.collect()
    start_rss = rss()
    peak = [start_rss]
    running = True

    def sample() -> None:
        while running:
            peak[0] = max(peak[0], rss())
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    try:
        yield
    finally:
        elapsed = time.perf_counter() - started
        running = False
        sampler.join()
        sink[label] = (elapsed, max(peak[0], rss()) - start_rss)


def ours(problems: dict[str, tuple[sp.csr_matrix, sp.csr_matrix]], k: int) -> Result:
    result: Result = {}
    for field, (jp, ca) in problems.items():
        problem = FieldProblem(jp, ca, k=k)
        pairs = problem.combine(
            [problem.block(a, b, n_threads=THREADS) for a, b in problem.blocks(16384)]
        )
        result[field] = pairs  # type: ignore[assignment]
    return result


def _side_scores(pairs: PairArrays, n_jp: int, n_ca: int, k: int) -> tuple[SideScores, SideScores]:
    """Each profile's top-k scores, for comparing methods (not timed)."""
    by_jp: list[list[float]] = [[] for _ in range(n_jp)]
    by_ca: list[list[float]] = [[] for _ in range(n_ca)]
    for i, j, score in zip(
        pairs.left.tolist(), pairs.right.tolist(), pairs.score.tolist(), strict=True
    ):
        by_jp[i].append(score)
        by_ca[j].append(score)
    top = lambda scores: np.sort(np.array(scores))[::-1][:k]  # noqa: E731
    return [top(s) for s in by_jp], [top(s) for s in by_ca]


def _csr_rows(matrix: sp.csr_matrix, k: int) -> SideScores:
    matrix = matrix.tocsr()
    return [
        np.sort(matrix.data[matrix.indptr[r] : matrix.indptr[r + 1]])[::-1][:k]
        for r in range(matrix.shape[0])
    ]


def library(
    call: Callable[..., Any],
) -> Callable[[dict[str, tuple[sp.csr_matrix, sp.csr_matrix]], int], Result]:
    def run(problems: dict[str, tuple[sp.csr_matrix, sp.csr_matrix]], k: int) -> Result:
        result: Result = {}
        for field, (jp, ca) in problems.items():
            jp_side = call(jp, ca.T.tocsr(), top_n=k, n_threads=THREADS)
            ca_side = call(ca, jp.T.tocsr(), top_n=k, n_threads=THREADS)
            result[field] = (jp_side, ca_side)
        return result

    return run


def naive(problems: dict[str, tuple[sp.csr_matrix, sp.csr_matrix]], k: int) -> Result:
    result: Result = {}
    for field, (jp, ca) in problems.items():
        dense = cosine_similarity(jp, ca)
        rows = np.argsort(-dense, axis=1)[:, :k]
        cols = np.argsort(-dense, axis=0)[:k, :]
        result[field] = (dense, rows, cols)  # type: ignore[assignment]
    return result


def normalise(raw: Any, problems: dict[str, tuple[sp.csr_matrix, sp.csr_matrix]], k: int) -> Result:
    """Each method's own output turned into per-profile top-k scores (not timed)."""
    result: Result = {}
    for field, value in raw.items():
        jp, ca = problems[field]
        if isinstance(value, PairArrays):
            result[field] = _side_scores(value, jp.shape[0], ca.shape[0], k)
        elif len(value) == 3:
            dense, rows, cols = value
            result[field] = (
                [dense[i, rows[i]][dense[i, rows[i]] > 0] for i in range(dense.shape[0])],
                [dense[cols[:, j], j][dense[cols[:, j], j] > 0] for j in range(dense.shape[1])],
            )
        else:
            result[field] = (_csr_rows(value[0], k), _csr_rows(value[1], k))
    return result


def same_top_k(a: Result, b: Result) -> bool:
    for field in a:
        for side_a, side_b in zip(a[field], b[field], strict=True):
            for x, y in zip(side_a, side_b, strict=True):
                if x.shape != y.shape or not np.allclose(x, y, atol=1e-5):
                    return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-side", type=int, default=100_000)
    parser.add_argument("--top-k", type=int, default=20)
    parser.add_argument("--naive-limit", type=int, default=8_000, help="largest side for naive")
    args = parser.parse_args()
    numba.set_num_threads(THREADS)

    docs = synthetic_profiles(args.per_side)
    timings: dict[str, tuple[float, int]] = {}
    matcher = TfidfMatcher(top_k=args.top_k)
    # Compiled kernels and the glossary's indexes are built once per process: not part of
    # the throughput.
    TfidfMatcher(top_k=args.top_k).fit_transform(docs[:200])
    with measured("vectorize", timings):
        matrix = matcher.fit_transform(docs)
    print(
        f"profiles: {len(docs):,} ({args.per_side:,} per side), vocabulary {matrix.shape[1]:,}, "
        f"{matrix.nnz / matrix.shape[0]:.0f} terms per profile"
    )
    seconds, memory = timings["vectorize"]
    print(
        f"vectorize: {seconds:.1f} s = {len(docs) / seconds:,.0f} profiles/s, "
        f"peak +{memory / 2**20:,.0f} MiB"
    )

    problems = {}
    for field in sorted({f for d in docs for f in d.fields}):
        jp = [i for i, d in enumerate(docs) if d.country == JAPAN and field in d.fields]
        ca = [i for i, d in enumerate(docs) if d.country == CANADA and field in d.fields]
        problems[field] = (matrix[jp].astype(np.float32), matrix[ca].astype(np.float32))
    pairs = sum(jp.shape[0] * ca.shape[0] for jp, ca in problems.values())
    print(f"fields: {len(problems)}, candidate pairs scored: {pairs:,}")

    # Compile the kernels outside the measurement.
    warm = next(iter(problems.values()))
    FieldProblem(warm[0][:10], warm[1][:10], k=2).mutual_topk()

    import sp_matmul_rs
    import sparse_dot_topn

    methods: dict[str, Callable[..., Result]] = {
        "this matcher (one pass, both sides)": ours,
        "sparse_dot_topn, twice": library(sparse_dot_topn.sp_matmul_topn),
        "sp-matmul-rs, twice": library(sp_matmul_rs.sp_matmul_topn),
    }
    biggest = max(max(jp.shape[0], ca.shape[0]) for jp, ca in problems.values())
    if biggest <= args.naive_limit:
        methods["naive cosine_similarity + argsort"] = naive
    else:
        print(f"naive: skipped, a dense field matrix would be {biggest:,} x {biggest:,}")

    results: dict[str, Result] = {}
    for name, method in methods.items():
        with measured(name, timings):
            raw = method(problems, args.top_k)
        results[name] = normalise(raw, problems, args.top_k)
        del raw
    reference_name = next(iter(methods))
    reference = timings[reference_name][0]
    print(f"\n{'method':40s} {'seconds':>8s} {'peak MiB':>9s} {'time / ours':>11s} same top-k")
    for name in methods:
        seconds, memory = timings[name]
        same = same_top_k(results[reference_name], results[name])
        print(f"{name:40s} {seconds:8.2f} {memory / 2**20:9.0f} {seconds / reference:11.2f} {same}")

    index_side = [d for d in docs if d.country == CANADA]
    index = matcher.build_index(index_side)
    probe = [d for d in docs if d.country == JAPAN][:200]
    matcher.top_partners(probe[0], index)
    started = time.perf_counter()
    times = []
    for doc in probe:
        t = time.perf_counter()
        matcher.top_partners(doc, index)
        times.append(time.perf_counter() - t)
    print(
        f"\nincremental: one profile against {len(index_side):,}: median "
        f"{np.median(times) * 1000:.1f} ms, p95 {np.percentile(times, 95) * 1000:.1f} ms "
        f"over {len(probe)} profiles ({time.perf_counter() - started:.1f} s)"
    )


if __name__ == "__main__":
    main()
