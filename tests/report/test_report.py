"""`profilegen report DIR`: one self-contained page with every section, the same bytes for
the same dataset, written for any dataset (tables or columns missing included)."""

import base64
import io
import json
import re
import shutil
from html.parser import HTMLParser
from xml.etree import ElementTree

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image
from typer.testing import CliRunner

from flows.cli import app
from pipeline.report import REPORT, build_report, write_report
from pipeline.report.build import tv_complement

SECTIONS = ["overview", "people", "faces", "words", "network", "activity", "accounts", "shapes"]


class Parsed(HTMLParser):
    """Sections (id -> text inside), images (src), and every external reference."""

    def __init__(self):
        super().__init__()
        self.sections, self.images, self.external, self._open = {}, [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self._open.append(a["id"])
            self.sections[a["id"]] = ""
        if tag == "img":
            self.images.append((self._open[-1] if self._open else None, a.get("src", "")))
        for k in ("src", "href"):
            v = a.get(k) or ""
            if v and not v.startswith(("data:", "#")):
                self.external.append(v)

    def handle_endtag(self, tag):
        if tag == "section":
            self._open.pop()

    def handle_data(self, data):
        if self._open:
            self.sections[self._open[-1]] += data


def parse(html: str) -> Parsed:
    p = Parsed()
    p.feed(html)
    return p


def decode(src: str) -> tuple[str, bytes]:
    head, data = src.split(",", 1)
    return head, base64.b64decode(data)


def test_report_of_a_full_dataset_shows_every_section_and_image(full_dataset):
    r = CliRunner().invoke(app, ["report", str(full_dataset)])
    assert r.exit_code == 0, r.output
    assert f"wrote {full_dataset / REPORT}" in r.output
    html = (full_dataset / REPORT).read_text(encoding="utf-8")
    p = parse(html)
    assert list(p.sections) == SECTIONS
    assert all(len(t.strip()) > 20 for t in p.sections.values()), p.sections
    assert p.external == []  # nothing loads from the network at view time
    assert "<script" not in html
    where = {s for s, _ in p.images}
    assert {"people", "faces", "words", "network", "activity", "shapes"} <= where
    for _, src in p.images:
        head, data = decode(src)
        assert len(data) > 200
        if head == "data:image/png;base64":
            Image.open(io.BytesIO(data)).verify()
        else:
            assert head == "data:image/svg+xml;base64"
            assert ElementTree.fromstring(data).tag.endswith("svg")
    # What a reader looks for, section by section.
    text = p.sections
    assert "240" in text["overview"] and "avatar-gan" in text["overview"]
    assert "female · 13-24" in text["faces"] and "read-back" in text["faces"]
    assert "template" in text["words"] and "ja_JP" in text["words"]
    assert "reciprocity" in text["network"]
    assert "posts" in text["activity"]
    assert "age" in text["shapes"] and "locale" in text["shapes"]


def test_the_same_dataset_gives_the_same_bytes(full_dataset, tmp_path):
    first, summary = build_report(full_dataset)
    copy = tmp_path / "copy"
    shutil.copytree(full_dataset, copy)
    again, _ = build_report(copy)
    # The page names the folder it was made from; all else is the same.
    assert first == again.replace(str(copy), str(full_dataset))
    write_report(full_dataset)
    a = (full_dataset / REPORT).read_bytes()
    write_report(full_dataset)
    assert (full_dataset / REPORT).read_bytes() == a
    assert summary["sections"] == SECTIONS
    assert 0.5 < summary["shape_scores"]["locale"] <= 1


def test_a_dataset_without_avatars_bios_follows_or_posts(bare_dataset):
    summary = write_report(bare_dataset)
    p = parse((bare_dataset / REPORT).read_text(encoding="utf-8"))
    assert list(p.sections) == SECTIONS
    assert "--avatars none" in p.sections["faces"]
    assert "--bios none" in p.sections["words"] and "--posts none" in p.sections["words"]
    assert "--follows none" in p.sections["network"]
    assert "--posts none" in p.sections["activity"]
    assert "detector.json" in p.sections["accounts"]
    assert summary["tables"] == {"profiles": 240}
    assert len([s for s in p.images if s[0] == "people"]) >= 4  # pyramid, map, locales, ...


def test_validation_goes_into_the_overview(bare_dataset):
    summary = write_report(bare_dataset, validate=True)
    assert summary["validation"]["failed"] == []
    overview = parse((bare_dataset / REPORT).read_text(encoding="utf-8")).sections["overview"]
    assert "checks passed" in overview and "username unique" in overview


def test_account_types_and_the_detector_table_when_present(bare_dataset, tmp_path):
    """Columns and files other stages add (account_type, campaign_id, split; detector.json)
    are shown when there, whatever else the dataset holds."""
    ds = tmp_path / "accounts"
    shutil.copytree(bare_dataset, ds)
    for f in sorted((ds / "data" / "profiles").glob("*.parquet")):
        t = pq.read_table(f)
        t = t.drop_columns(
            [c for c in ("account_type", "campaign_id", "split") if c in t.column_names]
        )
        n = t.num_rows
        kinds = ["human" if i % 5 else "bot" for i in range(n)]
        t = t.append_column("account_type", pa.array(kinds))
        t = t.append_column(
            "campaign_id", pa.array([None if i % 5 else i % 3 for i in range(n)], pa.int64())
        )
        t = t.append_column("split", pa.array(["train" if i % 4 else "test" for i in range(n)]))
        pq.write_table(t, f)  # schema metadata (provenance) kept
    (ds / "detector.json").write_text(
        json.dumps(
            {
                "model": "random forest",
                "f1": 0.81,
                "per_type": [{"account_type": "bot", "precision": 0.9, "recall": 0.7}],
            }
        )
    )
    write_report(ds)
    accounts = parse((ds / REPORT).read_text(encoding="utf-8")).sections["accounts"]
    assert "bot" in accounts and "human" in accounts and "test" in accounts
    assert "campaigns" in accounts and "random forest" in accounts and "0.81" in accounts
    assert "precision" in accounts


def test_bad_input_is_one_line_and_exit_2(tmp_path, full_dataset):
    r = CliRunner().invoke(app, ["report", str(tmp_path / "nothing")])
    assert r.exit_code == 2 and "no finished profilegen dataset" in r.output
    assert len(r.output.strip().splitlines()) == 1
    broken = tmp_path / "broken"
    shutil.copytree(full_dataset, broken)
    shard = next((broken / "data" / "posts").glob("*.parquet"))
    shard.write_bytes(shard.read_bytes()[:100])
    r = CliRunner().invoke(app, ["report", str(broken)])
    assert r.exit_code == 2 and "cannot read the dataset" in r.output, r.output
    assert "Traceback" not in r.output


def test_tv_complement_is_sdmetrics_score():
    assert tv_complement({"a": 5, "b": 5}, {"a": 0.5, "b": 0.5}) == 1
    assert tv_complement({"a": 1}, {"b": 1}) == 0
    assert tv_complement({"a": 3, "b": 1}, {"a": 0.5, "b": 0.5}) == pytest.approx(0.75)


def test_report_size_stays_small(full_dataset):
    """Thumbnails of a sample, fixed-size plots: the page does not grow with the rows."""
    summary = write_report(full_dataset)
    assert summary["bytes"] < 2_500_000
    html = (full_dataset / REPORT).read_text(encoding="utf-8")
    assert len(re.findall(r"<img", html)) < 80
