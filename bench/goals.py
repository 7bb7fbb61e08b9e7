"""The KoBo benchmark's figures beside issue 14's goals, one line each: measured, goal, met or not."""

from __future__ import annotations

FIXED_COST_S = 10.0
FULL_PEAK_MB, FULL_PEAK_GROWTH = 250.0, 1.1
NOOP_S, NOOP_PEAK_MB, NOOP_GROWTH = 10.0, 200.0, 1.2
FLOOR_SHARE = 1.0


def print_goals(results: dict, full: list[int], noops: list[int], project: tuple[float, float],
                floor: tuple[float, float]) -> None:
    """The table: marginal rate against the floor, peak RSS, fixed cost (run, serve), no-op nightly."""
    rows = []
    per_second, fixed = project
    if len(full) > 1:
        rows.append(("marginal rows/s, share of the floor's", f"{per_second / floor[0]:.2f}x",
                     f">= {FLOOR_SHARE:.1f}x", _met(per_second / floor[0] >= FLOOR_SHARE)))
    small, large = results[min(full)]["full"], results[max(full)]["full"]
    rows.append(("peak RSS of a full load", f"{max(small.peak_mb, large.peak_mb):.0f} MB", f"<= {FULL_PEAK_MB:.0f} MB",
                 _met(max(small.peak_mb, large.peak_mb) <= FULL_PEAK_MB)))
    if len(full) > 1:
        growth = large.peak_mb / small.peak_mb
        rows.append((f"  at {max(full):,} vs {min(full):,}", f"{growth:.2f}x", f"<= {FULL_PEAK_GROWTH}x",
                     _met(growth <= FULL_PEAK_GROWTH)))
    shown = fixed if len(full) > 1 else small.seconds  # one size: its whole time, an upper bound
    label = "fixed cost of `run` (extrapolated to 0)" if len(full) > 1 else f"`run` of {min(full):,} (bounds it)"
    rows.append((label, f"{shown:.1f} s (floor {floor[1]:.1f} s)", f"<= {FIXED_COST_S:.0f} s",
                 _met(shown <= FIXED_COST_S)))
    served = results[min(noops)].get("serve") if noops else None
    if served is not None:
        rows.append((f"no-op run under `serve` at {min(noops):,}", f"{served.run:.1f} s ({served.status})",
                     "say it", f"+ {served.poll_wait:.1f} s waiting for the runner's poll"))
    if noops:
        first = results[min(noops)]["noop"]
        rows.append((f"no-op nightly at {min(noops):,}", f"{first.seconds:.1f} s", f"<= {NOOP_S:.0f} s",
                     _met(first.seconds <= NOOP_S)))
        peaks = [results[n]["noop"].peak_mb for n in noops]  # the memory goal holds whatever the history
        rows.append((f"  its peak RSS at {' / '.join(f'{n:,}' for n in noops)}",
                     " / ".join(f"{p:.0f}" for p in peaks) + " MB", f"<= {NOOP_PEAK_MB:.0f} MB",
                     _met(max(peaks) <= NOOP_PEAK_MB)))
    if len(noops) > 1:
        growth = results[max(noops)]["noop"].seconds / results[min(noops)]["noop"].seconds
        rows.append((f"  at {max(noops):,} vs {min(noops):,}", f"{growth:.2f}x", f"<= {NOOP_GROWTH}x",
                     _met(growth <= NOOP_GROWTH)))
        rows.extend(_sweep_rows(results[min(noops)]["noop"], results[max(noops)]["noop"]))
    widths = [max(len(str(row[i])) for row in [("measured", "project", "goal", ""), *rows]) for i in range(3)]
    print()
    for row in [("measured", "project", "goal", "met"), *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row[:3], widths, strict=True)) + "  " + row[3])


def _sweep_rows(first, last) -> list[tuple[str, str, str, str]]:
    """The sweep measured apart (KoBo lists every (_id, _uuid), 1,000 a request), and the no-op without it."""
    if first.sweep is None or last.sweep is None:
        return []
    rest = (last.seconds - last.sweep) / (first.seconds - first.sweep)
    swept = f"{first.sweep:.1f} s -> {last.sweep:.1f} s"
    return [("  of which the sweep (every id listed)", swept, "measure apart", ""),
            ("  the rest, at the larger vs the smaller", f"{rest:.2f}x", "", "")]


def _met(ok: bool) -> str:
    return "yes" if ok else "no"
