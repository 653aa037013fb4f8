"""validate_dataset catches each way a dataset can break, and blames only the check for it.

Each test copies a pristine dataset (written once per module), breaks it in exactly one way
and asserts that exactly one check fails while every other check still runs and passes.
Shards are edited with pyarrow (schema and its metadata kept) and, except in the checksum
test, the manifest's sha256 is updated so the edit reaches the data checks.
"""

import datetime as dt
import hashlib
import io
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from phonenumbers import NumberParseException

from pipeline.dataset.validate import validate_dataset

LOOKS = "avatars look like their row (attribute classifier)"


# ---- helpers ------------------------------------------------------------------------------


def manifest(ds: Path) -> dict:
    return json.loads((ds / "manifest.json").read_text())


def table(ds: Path) -> pa.Table:
    """All rows, in manifest order (global row i is what `edit` calls row i)."""
    return pa.concat_tables(pq.read_table(ds / s["file"]) for s in manifest(ds)["shards"])


def rewrite_shard(ds: Path, rel: str, t: pa.Table, update_manifest: bool = True, **kw) -> None:
    before = pq.read_schema(ds / rel)
    assert t.schema.equals(before, check_metadata=True), "an edit must keep the schema"
    pq.write_table(t, ds / rel, **kw)
    if update_manifest:
        m = manifest(ds)
        for s in m["shards"]:
            if s["file"] == rel:
                s["sha256"] = hashlib.sha256((ds / rel).read_bytes()).hexdigest()
        (ds / "manifest.json").write_text(json.dumps(m, indent=2, sort_keys=True) + "\n")


def edit(ds: Path, column: str, values: dict[int, object]) -> None:
    """Set `column` of global rows {row: value}, shard by shard, keeping checksums valid."""
    start = 0
    for s in manifest(ds)["shards"]:
        t = pq.read_table(ds / s["file"])
        mine = {i - start: v for i, v in values.items() if start <= i < start + t.num_rows}
        start += t.num_rows
        if not mine:
            continue
        i = t.schema.get_field_index(column)
        field = t.schema.field(i)
        col = t[column].to_pylist()
        for row, v in mine.items():
            col[row] = v
        rewrite_shard(ds, s["file"], t.set_column(i, field, pa.array(col, type=field.type)))


def edit_follows(ds: Path, column: str, values: dict[int, object]) -> None:
    """Set `column` of rows {row: value} of the first follows shard, checksum kept valid."""
    m = manifest(ds)
    part = m["shards"][0]["tables"]["follows"]
    t = pq.read_table(ds / part["file"])
    i = t.schema.get_field_index(column)
    col = t[column].to_pylist()
    for row, v in values.items():
        col[row] = v
    pq.write_table(t.set_column(i, t.schema.field(i), pa.array(col, t.schema.field(i).type)),
                   ds / part["file"])  # fmt: skip
    part["sha256"] = hashlib.sha256((ds / part["file"]).read_bytes()).hexdigest()
    (ds / "manifest.json").write_text(json.dumps(m, indent=2, sort_keys=True) + "\n")


def follows(ds: Path) -> pa.Table:
    return pq.read_table(ds / manifest(ds)["shards"][0]["tables"]["follows"]["file"])


def shift_counts(ds: Path, changes: dict[tuple[str, int], int]) -> None:
    """Add to the in-dataset counts: {(column, user_id): delta}, so only one check sees an
    edit of the follows table."""
    t = table(ds)
    row_of = {u: i for i, u in enumerate(t["user_id"].to_pylist())}
    for column in {c for c, _ in changes}:
        values = t[column].to_pylist()
        edit(ds, column, {row_of[u]: values[row_of[u]] + d for (c, u), d in changes.items()
                          if c == column})  # fmt: skip


def only_fails(ds: Path, baseline: list[str], name: str) -> None:
    assert name in baseline, f"no check named {name!r}"
    checks = validate_dataset(ds)
    assert [c.name for c in checks] == baseline, [c.name for c in checks]
    bad = {c.name: c.detail for c in checks if not c.ok}
    assert set(bad) == {name}, bad


def first(t: pa.Table, pred) -> int:
    """The first row (global index) for which pred(row dict) holds."""
    hits = [i for i, r in enumerate(t.to_pylist()) if pred(r)]
    assert hits, "the fixture dataset lacks a row this test needs"
    return hits[0]


# ---- datasets, written once per module -----------------------------------------------------

# Every check validate_dataset runs, by name; each has a test below.
CHECKS = [
    "shard checksums", "row count", "user_id unique", "username unique", "email unique",
    "emails on reserved domains", "age matches birthdate", "account after 13th birthday",
    "account before reference date", "phones valid for their country",
    "timezones are IANA names", "coordinates in range", "under-18s are students",
    "bios present", "bios without prompt leaks", "bios unique", "bios <= 160 chars",
    "bio_source is lm/template", "avatars decode as PNG", "avatars marked synthetic",
    "avatar conditions = row's gender and age band", LOOKS,
    "follows between users of this dataset", "no self-follows", "no duplicate follows",
    "followers_in_dataset = in-degree", "following_in_dataset = out-degree",
    "follows after both accounts exist", "follows before reference date",
    "follow reasons known",
]  # fmt: skip

DATASETS = {
    "fields": dict(rows=300, shard_rows=150),
    "bios": dict(rows=100, shard_rows=100, bios="template"),
    "avatars": dict(rows=48, shard_rows=48, avatars="gan"),
    "graph": dict(rows=300, shard_rows=150, follows="graph"),
}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """name -> (dataset, names of the checks it runs); each written on first use."""
    return {"_root": tmp_path_factory.mktemp("pristine")}


def _dataset(name, pristine, small_cfg, write_dataset, tmp_path) -> tuple[Path, list[str]]:
    # Built lazily from a function-scoped fixture so the conftest fixtures (and the
    # autouse cache dir) apply, yet only once per module; each test gets its own copy.
    if name not in pristine:
        src = pristine["_root"] / name
        write_dataset(small_cfg(**DATASETS[name]), src)
        checks = validate_dataset(src)
        assert all(c.ok for c in checks), [c for c in checks if not c.ok]
        pristine[name] = (src, [c.name for c in checks])
    src, baseline = pristine[name]
    ds = tmp_path / name
    shutil.copytree(src, ds)
    return ds, baseline


@pytest.fixture
def fields(pristine, small_cfg, write_dataset, tmp_path):
    return _dataset("fields", pristine, small_cfg, write_dataset, tmp_path)


@pytest.fixture
def bios(pristine, small_cfg, write_dataset, tmp_path):
    return _dataset("bios", pristine, small_cfg, write_dataset, tmp_path)


@pytest.fixture
def graph(pristine, small_cfg, write_dataset, tmp_path):
    return _dataset("graph", pristine, small_cfg, write_dataset, tmp_path)


@pytest.fixture
def avatars(pristine, small_cfg, write_dataset, tmp_path):
    return _dataset("avatars", pristine, small_cfg, write_dataset, tmp_path)


def test_pristine_datasets_pass_and_run_every_check(fields, bios, avatars, graph):
    names = fields[1] + bios[1] + avatars[1] + graph[1]
    assert set(names) == set(CHECKS)  # a new check wants a test in this file
    assert all(set(fields[1]) < set(d[1]) for d in (bios, avatars, graph))


# ---- integrity ------------------------------------------------------------------------------


def test_shard_checksums(fields):
    ds, baseline = fields
    rel = manifest(ds)["shards"][1]["file"]
    before = (ds / rel).read_bytes()
    t = pq.read_table(ds / rel)
    # Same rows, same schema, other bytes: only the checksum can tell.
    rewrite_shard(ds, rel, t, update_manifest=False, compression="zstd")
    assert (ds / rel).read_bytes() != before and pq.read_table(ds / rel).equals(t)
    only_fails(ds, baseline, "shard checksums")


def test_a_truncated_shard_is_a_failed_check_not_a_traceback(fields):
    # What a killed copy or a full disk leaves: half a file. `inspect` reports it as rows
    # of its table (checksums, readable), not a 40-line pyarrow traceback.
    ds, _ = fields
    rel = manifest(ds)["shards"][0]["file"]
    data = (ds / rel).read_bytes()
    (ds / rel).write_bytes(data[: len(data) // 2])
    bad = {c.name: c.detail for c in validate_dataset(ds) if not c.ok}
    assert set(bad) == {"shard checksums", "shards readable"}, bad


@pytest.mark.parametrize("delta", [1, -1])
def test_row_count(fields, delta):
    ds, baseline = fields
    m = manifest(ds)
    m["rows"] += delta
    (ds / "manifest.json").write_text(json.dumps(m, indent=2, sort_keys=True) + "\n")
    only_fails(ds, baseline, "row count")


# ---- uniqueness and addresses ----------------------------------------------------------------


@pytest.mark.parametrize("col", ["user_id", "username", "email"])
@pytest.mark.parametrize("where", ["same shard", "across shards"])
def test_unique(fields, col, where):
    ds, baseline = fields
    t = table(ds)
    target = 1 if where == "same shard" else t.num_rows - 1
    edit(ds, col, {target: t[col][0].as_py()})
    only_fails(ds, baseline, f"{col} unique")


@pytest.mark.parametrize("domain", ["gmail.com", "example.co", "mail.example.com.evil.org"])
def test_emails_on_reserved_domains(fields, domain):
    ds, baseline = fields
    t = table(ds)
    local = t["email"][5].as_py().split("@")[0]
    edit(ds, "email", {5: f"{local}@{domain}"})  # still unique
    only_fails(ds, baseline, "emails on reserved domains")


# ---- dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize("change", ["age +1", "age -1", "birthdate a year earlier"])
def test_age_matches_birthdate(fields, change):
    ds, baseline = fields
    t = table(ds)
    # An adult (19+) so the under-18 check is not involved either way.
    i = first(t, lambda r: r["age"] >= 19)
    if change == "age +1":
        edit(ds, "age", {i: t["age"][i].as_py() + 1})
    elif change == "age -1":
        edit(ds, "age", {i: t["age"][i].as_py() - 1})
    else:  # an earlier birth keeps the account after the 13th birthday
        b = t["birthdate"][i].as_py()
        edit(ds, "birthdate", {i: b - dt.timedelta(days=366)})
    only_fails(ds, baseline, "age matches birthdate")


def _utc(d: dt.date) -> dt.datetime:
    return dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC)


@pytest.mark.parametrize("when", ["a second before the 13th birthday", "at birth"])
def test_account_after_13th_birthday(fields, when):
    ds, baseline = fields
    t = table(ds)
    i = first(t, lambda r: (r["birthdate"].month, r["birthdate"].day) != (2, 29))
    b = t["birthdate"][i].as_py()
    thirteen = _utc(b.replace(year=b.year + 13))
    created = thirteen - dt.timedelta(seconds=1) if when.startswith("a second") else _utc(b)
    edit(ds, "created_at", {i: created})
    only_fails(ds, baseline, "account after 13th birthday")


@pytest.mark.parametrize("when", ["at the reference date", "a month after it"])
def test_account_before_reference_date(fields, when):
    ds, baseline = fields
    ref = _utc(dt.date(2026, 1, 1))  # small_cfg's reference date (in the schema metadata)
    prov = json.loads(
        pq.read_schema(ds / manifest(ds)["shards"][0]["file"]).metadata[b"profilegen"]
    )
    assert prov["reference_date"] == "2026-01-01"
    created = ref if when.startswith("at") else ref + dt.timedelta(days=31)
    edit(ds, "created_at", {3: created})
    only_fails(ds, baseline, "account before reference date")


# ---- phones, places -----------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["another country's number", "no leading +", "invalid number",
                                 "country_code changed"])  # fmt: skip
def test_phones_valid_for_their_country(fields, how):
    ds, baseline = fields
    t = table(ds)
    i = first(t, lambda r: r["country_code"] == "US")
    j = first(t, lambda r: r["country_code"] == "JP")
    phone = t["phone"][i].as_py()
    if how == "another country's number":
        edit(ds, "phone", {i: t["phone"][j].as_py()})  # a valid JP number on a US row
    elif how == "no leading +":
        edit(ds, "phone", {i: phone.lstrip("+")})
    elif how == "invalid number":
        edit(ds, "phone", {i: "+15550000000"})  # parses, but no such area code
    else:
        edit(ds, "country_code", {i: "JP"})  # nothing else reads country_code
    only_fails(ds, baseline, "phones valid for their country")


@pytest.mark.parametrize("tz", ["Mars/Olympus_Mons", "", "Asia/Tokio", "UTC+3"])
def test_timezones_are_iana_names(fields, tz):
    ds, baseline = fields
    edit(ds, "timezone", {7: tz})
    only_fails(ds, baseline, "timezones are IANA names")


@pytest.mark.parametrize(
    ("col", "value"),
    [("latitude", 90.5), ("latitude", -91.0), ("longitude", 180.01), ("longitude", -360.0)],
)
def test_coordinates_in_range(fields, col, value):
    ds, baseline = fields
    edit(ds, col, {9: value})
    only_fails(ds, baseline, "coordinates in range")


def test_under_18s_are_students(fields):
    ds, baseline = fields
    t = table(ds)
    kid = first(t, lambda r: r["age"] < 18)
    job = t["occupation"][first(t, lambda r: not r["occupation"].endswith("student"))].as_py()
    edit(ds, "occupation", {kid: job})
    only_fails(ds, baseline, "under-18s are students")


# ---- bios ---------------------------------------------------------------------------------------


def test_bios_present(bios):
    ds, baseline = bios
    edit(ds, "bio", {4: None})
    only_fails(ds, baseline, "bios present")


def test_an_empty_bio_is_a_profile_without_one_not_a_failure(bios):
    ds, baseline = bios
    edit(ds, "bio", {4: "", 5: ""})  # two of them: not duplicates either
    assert [c.name for c in validate_dataset(ds) if not c.ok] == []


@pytest.mark.parametrize("bio", [
    "Here's a bio for Maria: she loves hiking in Osaka.",
    "As an AI language model, I love chess and jazz.",
    "Runner, baker and tea fan.<|im_end|>",
    "Name: Omar. Loves football.",
])  # fmt: skip
def test_bios_without_prompt_leaks(bios, bio):
    ds, baseline = bios
    edit(ds, "bio", {4: bio})
    only_fails(ds, baseline, "bios without prompt leaks")


@pytest.mark.parametrize("case", [str, str.upper])
def test_bios_unique(bios, case):
    ds, baseline = bios
    t = table(ds)
    edit(ds, "bio", {9: case(t["bio"][2].as_py())})
    only_fails(ds, baseline, "bios unique")


def test_bios_not_too_long(bios):
    ds, baseline = bios
    from pipeline.lm.gate import MAX_CHARS

    bio = table(ds)["bio"][4].as_py()
    long = (bio + " Also fond of long walks by the river") * 4
    edit(ds, "bio", {4: long[: MAX_CHARS + 1]})
    only_fails(ds, baseline, f"bios <= {MAX_CHARS} chars")


@pytest.mark.parametrize("src", ["gpt", "", None, "LM"])
def test_bio_source_values(bios, src):
    ds, baseline = bios
    edit(ds, "bio_source", {4: src})
    only_fails(ds, baseline, "bio_source is lm/template")


# ---- avatars ------------------------------------------------------------------------------------


def _png(img, **text) -> bytes:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for k, v in text.items():
        info.add_text(k, v)
    buf = io.BytesIO()
    img.save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


@pytest.mark.parametrize("broken", ["truncated", "not an image", "no bytes"])
def test_avatars_decode_as_png(avatars, broken):
    ds, baseline = avatars
    av = table(ds)["avatar"][3].as_py()
    data = {"truncated": av["bytes"][:200], "not an image": b"hello", "no bytes": None}[broken]
    edit(ds, "avatar", {3: {**av, "bytes": data}})
    # The classifier still reads the pictures that decode: only the decode check fails.
    only_fails(ds, baseline, "avatars decode as PNG")


@pytest.mark.parametrize("comment", [None, "Generated by profilegen."])
def test_avatars_marked_synthetic(avatars, comment):
    from PIL import Image

    ds, baseline = avatars
    av = table(ds)["avatar"][3].as_py()
    img = Image.open(io.BytesIO(av["bytes"]))
    text = {k: v for k, v in img.text.items() if k != "Comment"}
    if comment is not None:
        text["Comment"] = comment
    edit(ds, "avatar", {3: {**av, "bytes": _png(img, **text)}})  # same pixels
    only_fails(ds, baseline, "avatars marked synthetic")


@pytest.mark.parametrize("attr", ["gender", "age_band"])
def test_avatar_conditions_match_row(avatars, attr):
    from pipeline.avatars.conditions import CONDITIONS

    ds, baseline = avatars
    attrs = table(ds)["avatar_attributes"][3].as_py()
    other = next(v for v in CONDITIONS[attr] if v != attrs[attr])
    # Only the recorded conditions change: the picture (what the classifier reads) stays.
    edit(ds, "avatar_attributes", {3: {**attrs, attr: other}})
    only_fails(ds, baseline, "avatar conditions = row's gender and age band")


def test_avatars_look_like_their_row(avatars):
    ds, baseline = avatars
    t = table(ds)
    genders = t["gender"].to_pylist()
    women = [i for i, g in enumerate(genders) if g == "female"]
    men = [i for i, g in enumerate(genders) if g == "male"]
    # Swap pictures between women and men: gender and avatar_attributes (which still
    # match each row) are untouched, so only the look-alike check can notice.
    av = t["avatar"].to_pylist()
    swaps = {}
    for w, m in zip(women, men, strict=False):
        swaps[w], swaps[m] = av[m], av[w]
    assert len(swaps) >= 0.7 * t.num_rows
    edit(ds, "avatar", swaps)
    only_fails(ds, baseline, LOOKS)


# ---- breakages that once crashed validate_dataset or passed it (issue 9) ------------------------


def _jpeg(ds: Path) -> dict[int, object]:
    from PIL import Image

    av = table(ds)["avatar"][3].as_py()
    buf = io.BytesIO()
    Image.open(io.BytesIO(av["bytes"])).convert("RGB").save(buf, "JPEG", quality=95)
    return {3: {**av, "bytes": buf.getvalue()}}


ODD_VALUES = {
    # case: (dataset, column, edits(ds), the check that must fail alone, what it once did)
    "unparsable phone": ("fields", "phone", lambda ds: {2: "+12"},
                         "phones valid for their country", NumberParseException),
    "timezone that is a tz folder": ("fields", "timezone", lambda ds: {2: "America"},
                                     "timezones are IANA names", IsADirectoryError),
    "email without @": ("fields", "email", lambda ds: {2: "nobody"},
                        "emails on reserved domains", pa.ArrowInvalid),
    "NaN latitude": ("fields", "latitude", lambda ds: {2: float("nan")},
                     "coordinates in range", AssertionError),  # NaN > 90 is False
    "JPEG avatar": ("avatars", "avatar", _jpeg,
                    "avatars decode as PNG", AttributeError),  # JpegImageFile has no .text
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(ODD_VALUES))
def test_odd_values_fail_their_check_without_crashing(
    case, pristine, small_cfg, write_dataset, tmp_path
):
    name, column, edits, check, _ = ODD_VALUES[case]
    ds, baseline = _dataset(name, pristine, small_cfg, write_dataset, tmp_path)
    edit(ds, column, edits(ds))
    only_fails(ds, baseline, check)


def test_bio_source_null_and_other(bios):  # once: sorted() of {None, 'gpt'} raised
    ds, baseline = bios
    edit(ds, "bio_source", {4: None, 5: "gpt"})
    only_fails(ds, baseline, "bio_source is lm/template")


# ---- the follows table -----------------------------------------------------------------


def test_follows_of_unknown_users(graph):
    ds, baseline = graph
    e = follows(ds).slice(0, 1).to_pylist()[0]
    edit_follows(ds, "follower_id", {0: 12345})  # nobody's id: the edge counts for no one
    shift_counts(ds, {("following_in_dataset", e["follower_id"]): -1,
                      ("followers_in_dataset", e["followee_id"]): -1})  # fmt: skip
    only_fails(ds, baseline, "follows between users of this dataset")


def test_self_follows(graph):
    ds, baseline = graph
    e = follows(ds).slice(0, 1).to_pylist()[0]
    edit_follows(ds, "followee_id", {0: e["follower_id"]})
    shift_counts(ds, {("followers_in_dataset", e["followee_id"]): -1,
                      ("followers_in_dataset", e["follower_id"]): 1})  # fmt: skip
    only_fails(ds, baseline, "no self-follows")


def test_duplicate_follows(graph):
    ds, baseline = graph
    f = follows(ds).to_pylist()
    # Two follows by one user: the second becomes a copy of the first.
    j = next(j for j in range(1, len(f)) if f[j]["follower_id"] == f[0]["follower_id"])
    edit_follows(ds, "followee_id", {j: f[0]["followee_id"]})
    shift_counts(ds, {("followers_in_dataset", f[j]["followee_id"]): -1,
                      ("followers_in_dataset", f[0]["followee_id"]): 1})  # fmt: skip
    only_fails(ds, baseline, "no duplicate follows")


@pytest.mark.parametrize("column, check", [
    ("followers_in_dataset", "followers_in_dataset = in-degree"),
    ("following_in_dataset", "following_in_dataset = out-degree"),
])  # fmt: skip
def test_in_dataset_counts_off_by_one(graph, column, check):
    ds, baseline = graph
    edit(ds, column, {7: table(ds)[column][7].as_py() + 1})
    only_fails(ds, baseline, check)


@pytest.mark.parametrize("when, check", [
    (dt.datetime(2001, 1, 1, tzinfo=dt.UTC), "follows after both accounts exist"),
    (dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "follows before reference date"),
    (dt.datetime(2030, 5, 1, tzinfo=dt.UTC), "follows before reference date"),
])  # fmt: skip
def test_follow_times(graph, when, check):
    ds, baseline = graph
    edit_follows(ds, "created_at", {3: when})
    only_fails(ds, baseline, check)


def test_unknown_follow_reason(graph):
    ds, baseline = graph
    edit_follows(ds, "reason", {5: "bought"})
    only_fails(ds, baseline, "follow reasons known")
