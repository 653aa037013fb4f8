"""The report in a real browser: headless Chromium (Debian's `chromium`, installed by `make
install` where apt-get can) loads it, says nothing in its console, and shows every section
and every image; a screenshot of the page is saved."""

from pathlib import Path

import pytest
from PIL import Image

from pipeline.report import REPORT, write_report
from tests.report.chromium import Page, find_chromium
from tests.report.test_report import SECTIONS

CHROMIUM = find_chromium()

# What the page looks like to its reader: every section with its text, every image decoded
# by the browser (naturalWidth > 0) and drawn with a size.
PROBE = """(() => {
  const sections = [...document.querySelectorAll('section')].map(s => ({
    id: s.id, text: s.innerText.trim().length, height: s.getBoundingClientRect().height}));
  const images = [...document.images].map(i => ({
    section: i.closest('section') ? i.closest('section').id : null,
    complete: i.complete, width: i.naturalWidth, height: i.naturalHeight,
    shown: i.getBoundingClientRect().width}));
  return {title: document.title, sections, images,
          resources: performance.getEntriesByType('resource').map(r => r.name)};
})()"""


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium (make install puts it in as root)")
@pytest.mark.parametrize("which", ["full_dataset", "bare_dataset"])
def test_the_report_opens_in_chromium(which, request, tmp_path):
    ds: Path = request.getfixturevalue(which)
    write_report(ds)
    with Page(CHROMIUM) as page:
        page.open((ds / REPORT).resolve().as_uri())
        seen = page.evaluate(PROBE)
        shot = tmp_path / f"report-{which}.png"
        page.screenshot(shot)
        page.evaluate("1")  # read any console message still in flight
        errors = page.errors
    assert errors == [], errors
    assert seen["title"].startswith("profilegen report")
    assert [s["id"] for s in seen["sections"]] == SECTIONS
    assert all(s["text"] > 20 and s["height"] > 40 for s in seen["sections"]), seen["sections"]
    assert seen["images"], "no images"
    bad = [
        i
        for i in seen["images"]
        if not (i["complete"] and i["width"] > 0 and i["height"] > 0 and i["shown"] > 0)
    ]
    assert bad == [], bad
    assert seen["resources"] == []  # nothing fetched: data: URIs only
    with Image.open(shot) as im:
        assert im.width >= 1000 and im.height > 2000
        assert sum(1 for n in im.convert("L").histogram() if n) > 20  # not blank
    assert shot.stat().st_size > 50_000


def test_a_page_with_a_console_error_is_caught(tmp_path):
    """The console check itself: a page that logs an error fails it."""
    if CHROMIUM is None:
        pytest.skip("no chromium")
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<!DOCTYPE html><html><body><img src='missing.png'>"
        "<script>console.error('boom')</script></body></html>"
    )
    with Page(CHROMIUM) as page:
        page.open(bad.as_uri())
        page.evaluate("1")
        errors = page.errors
    assert any("boom" in e for e in errors), errors
    assert any("load failed" in e or "missing.png" in e for e in errors), errors
