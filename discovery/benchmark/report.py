"""The benchmark's table: per round and cumulative, as the command prints it and docs/discovery.md quotes it."""


def _pct(value) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _factor(value) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


HEADER = (
    "| round | hidden stable phases among generated / kept |  evaluations (filtered + baseline) | failed / unconverged | rediscovered (filtered / baseline) "
    "| recall filtered | recall baseline | DFT-confirmed precision filtered | baseline | evaluator hit rate "
    "filtered / baseline | acceleration | seconds (generate / filter / evaluate) |"
)


def benchmark_rows(report: dict) -> list[list[str]]:
    """One row per round with cumulative recall and acceleration, per-round precision and hit rates."""
    rows = []
    for r in report["rounds"]:
        f, b, c = r["filtered"], r["baseline"], r["cumulative"]
        s = r["seconds"]
        rows.append(
            [
                str(r["round"]),
                f"{r['reachable']['generated']} / {r['reachable']['kept']}",
                f"{f['evaluations']} + {b['evaluations']}",
                f"{f['failed'] + b['failed']} / {f['unconverged'] + b['unconverged']}",
                f"{c['filtered']['rediscovered']} / {c['baseline']['rediscovered']}",
                _pct(c["filtered"]["recall"]),
                _pct(c["baseline"]["recall"]),
                _pct(f["dft_precision"]),
                _pct(b["dft_precision"]),
                f"{_pct(f['hit_rate'])} / {_pct(b['hit_rate'])}",
                _factor(c["acceleration"]),
                f"{s['generate']:.0f} / {s['filter']:.0f} / {s['evaluate']:.0f}",
            ]
        )
    return rows


def benchmark_table(report: dict) -> str:
    """A Markdown table with a line on the hold-out and the evaluator above it."""
    holdout = report["holdout"]
    lines = [
        f"hold-out: {holdout['hidden_entries']} entries of {holdout['hidden_compositions']} compositions hidden "
        f"({holdout['hidden_stable']} DFT-stable), {holdout['visible_entries']} visible; evaluator "
        f"{report['evaluator']} (oracle: DFT of the hidden entry where a candidate matches one); model "
        f"{report['model']['config']} x{report['model']['members']}, test MAE "
        f"{report['model']['test_mae']:.3f} eV/atom; recall and rediscoveries cumulative, the rest per round",
        "",
        HEADER,
        "|" + "---|" * (HEADER.count("|") - 1),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in benchmark_rows(report)]
    return "\n".join(lines)
