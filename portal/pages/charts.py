"""The catalogue's charts on the home page (stable entries by element count, growth) and the discovery dashboard
(round metrics, data scaling), drawn with the shared plotly helpers of :mod:`portal.pages.figures`."""

from datetime import date, timedelta

from portal.pages.figures import NEW_COLOUR, STABLE_COLOUR, Figure, _figure, _layout, _trace

# --- home ----------------------------------------------------------------------------------------


def stable_by_nelements(counts: dict[int, int]) -> Figure:
    fig = _figure(
        _trace(
            "bar",
            x=[str(n) for n in counts],
            y=list(counts.values()),
            marker={"color": STABLE_COLOUR},
            hovertemplate="%{x} elements: %{y} stable<extra></extra>",
        )
    )
    return _layout(
        fig,
        xaxis={"title": {"text": "number of elements"}},
        yaxis={"title": {"text": "stable entries"}},
        height=320,
        showlegend=False,
    )


def stable_growth(growth: dict) -> Figure:
    """DFT-stable entries and every stable entry (the difference is stability predicted by evaluators)."""
    dft = growth.get("dft_cumulative", growth["cumulative"])
    predicted = [total - d for total, d in zip(growth["cumulative"], dft, strict=True)]
    traces = [
        _trace(
            "scatter",
            x=growth["days"],
            y=dft,
            mode="lines+markers",
            line={"shape": "hv"},
            marker={"color": STABLE_COLOUR},
            name="DFT-stable",
            hovertemplate="%{x}: %{y} DFT-stable<extra></extra>",
        )
    ]
    if any(predicted):
        traces.append(
            _trace(
                "scatter",
                x=growth["days"],
                y=predicted,
                mode="lines+markers",
                line={"shape": "hv", "dash": "dot"},
                marker={"color": NEW_COLOUR},
                name="stable as predicted by evaluators (not DFT)",
                hovertemplate="%{x}: %{y} predicted stable<extra></extra>",
            )
        )
    fig = _figure(traces)
    xaxis = {"title": {"text": "added to the catalogue"}, "type": "date", "tickformat": "%d %b %Y"}
    if len(set(growth["days"])) < 2:  # one day: a week around it, not plotly's sub-second autorange
        day = date.fromisoformat(growth["days"][0]) if growth["days"] else date.today()
        xaxis.update(
            range=[(day - timedelta(days=3)).isoformat(), (day + timedelta(days=3)).isoformat()],
            dtick=86_400_000,
        )
    return _layout(
        fig, xaxis=xaxis, yaxis={"title": {"text": "stable entries"}, "rangemode": "tozero"}, height=320
    )


def stable_by_round(growth: dict) -> Figure:
    rounds = [f"round {n}" for n, _ in growth["rounds"]]
    added = [n for _, n in growth["rounds"]]
    cumulative = [sum(added[: i + 1]) for i in range(len(added))]
    fig = _figure(
        [
            _trace(
                "bar",
                x=rounds,
                y=added,
                name="stable entries added (as predicted by the round's evaluator)",
                marker={"color": STABLE_COLOUR},
            ),
            _trace(
                "scatter",
                x=rounds,
                y=cumulative,
                name="cumulative",
                mode="lines+markers",
                marker={"color": NEW_COLOUR},
            ),
        ]
    )
    return _layout(fig, yaxis={"title": {"text": "stable entries"}}, height=320)


# --- material ------------------------------------------------------------------------------------


# --- discovery dashboard -------------------------------------------------------------------------


def round_metrics(rounds: list) -> list[tuple[str, Figure]]:
    """One small chart per numeric metric that the rounds report, against the round number."""
    ordered = sorted(rounds, key=lambda r: r.number)
    names = sorted(
        {
            k
            for r in ordered
            for k, v in (r.metrics or {}).items()
            if isinstance(v, int | float) and not isinstance(v, bool)
        }
    )
    charts = []
    for name in names:
        points = [
            (r.number, r.metrics[name])
            for r in ordered
            if isinstance((r.metrics or {}).get(name), int | float) and not isinstance(r.metrics[name], bool)
        ]
        fig = _figure(
            _trace(
                "scatter",
                x=[p[0] for p in points],
                y=[p[1] for p in points],
                mode="lines+markers",
                marker={"color": STABLE_COLOUR},
            )
        )
        charts.append(
            (
                name,
                _layout(
                    fig,
                    height=260,
                    xaxis={"title": {"text": "round"}, "dtick": 1},
                    yaxis={"title": {"text": name}},
                ),
            )
        )
    return charts


def scaling(result: dict, title: str) -> Figure:
    """Test error against training-set size on log-log axes, with the fitted power law when given."""
    sizes, maes = result["sizes"], result["test_mae"]
    traces = [_trace("scatter", x=sizes, y=maes, mode="markers", name="test MAE", marker={"size": 10})]
    fit = result.get("fit") or {}
    if {"prefactor", "exponent"} <= fit.keys() and min(sizes) > 0:
        low, high = min(sizes), max(sizes)
        grid = [low * (high / low) ** (i / 40) for i in range(41)] if high > low else [low]
        traces.append(
            _trace(
                "scatter",
                x=grid,
                y=[fit["prefactor"] * n ** fit["exponent"] for n in grid],
                mode="lines",
                name=f"MAE = {fit['prefactor']:.3g}·N^{fit['exponent']:.3f}",
            )
        )
    return _layout(
        _figure(traces),
        title={"text": title},
        height=380,
        xaxis={"title": {"text": "training structures"}, "type": "log"},
        yaxis={"title": {"text": "test MAE (eV/atom)"}, "type": "log"},
    )
