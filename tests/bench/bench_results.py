# SPDX-License-Identifier: LGPL-2.1-only
"""Benchmark results: paired ratios, targets, the table
(tests/bench/run.py)."""

import statistics

from bench_common import PAR


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def paired_ratios(row):
    """altpop / stock per round (the two ran back to back), for the rounds
    where both have a value."""
    return [a / s for s, a in zip(row["stock"], row["altpop"])
            if s and a is not None and s is not None]


def target_ok(target, ratio):
    op, val = target[:2], float(target[2:])
    return ratio >= val if op == ">=" else ratio <= val


class Results:
    def __init__(self):
        self.rows = []       # (workload, metric, unit, better, target, values)
        self.failures = []   # (workload, message)
        self.notes = []

    def add(self, workload, metric, unit, better, target, stock, alt, labels=None):
        """stock/alt: the values of all rounds; labels: names of the two
        columns when they are not stock pop3 and altpop (kpop)."""
        self.rows.append(dict(workload=workload, metric=metric, unit=unit,
                              better=better, target=target, labels=labels,
                              stock=list(stock), altpop=list(alt)))

    def fail(self, workload, msg):
        self.failures.append((workload, msg))

    def note(self, text):
        self.notes.append(text)

    def table(self):
        """Medians of each side, and the median (min-max) of the paired
        per-round ratios: the ratio the targets are checked against."""
        lines = []
        hdr = "%-8s %-58s %11s %11s %7s %-13s %-7s %s" % (
            "workload", "metric", "stock", "altpop", "ratio", "(min-max)",
            "target", "")
        lines.append(hdr)
        lines.append("-" * len(hdr))
        for r in self.rows:
            s, a = median(r["stock"]), median(r["altpop"])
            ratios = paired_ratios(r)
            ratio = median(ratios)
            spread = ("%.2f-%.2f" % (min(ratios), max(ratios))) if len(ratios) > 1 else ""
            verdict = ""
            if r["target"] and ratio is not None:
                val = float(r["target"][2:])
                verdict = ("ok" if target_ok(r["target"], ratio) else
                           ("par" if abs(ratio - val) <= PAR else "BEHIND"))
            metric = "%s [%s]" % (r["metric"], r["unit"])
            if r.get("labels"):
                metric += " (%s | %s)" % tuple(r["labels"])
            lines.append("%-8s %-58s %11s %11s %7s %-13s %-7s %s" % (
                r["workload"], metric,
                fmt(s), fmt(a), "%.3f" % ratio if ratio is not None else "-",
                spread, r["target"] or "", verdict))
        return "\n".join(lines)

    def verdicts(self):
        out = []
        for r in self.rows:
            ratio = median(paired_ratios(r))
            if r["target"] and ratio is not None:
                out.append((r, ratio, target_ok(r["target"], ratio)))
        return out


def fmt(v):
    if v is None:
        return "-"
    if abs(v) >= 1000:
        return "%.0f" % v
    if abs(v) >= 10:
        return "%.1f" % v
    if abs(v) >= 0.1:
        return "%.3f" % v
    return "%.4f" % v
