"""Checks a finished dataset against its promises: integrity, uniqueness, coherence.

Used by `profilegen inspect` and by the tests, so what a user can check is what CI checks.
Each check recomputes its property from the data itself, not from generator internals.
"""

import datetime as dt
import json
import zoneinfo
from dataclasses import dataclass

import numpy as np
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.dataset.storage import open_store
from pipeline.dataset.writer import Location, read_manifest, read_shard
from pipeline.identity.engine import EMAIL_DOMAINS


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def load_table(out: Location) -> pa.Table:
    out = open_store(out)
    manifest = read_manifest(out)
    return pa.concat_tables(read_shard(out, s["file"]) for s in manifest["shards"])


def _share(mask: np.ndarray) -> str:
    return f"{int(mask.sum())} of {len(mask)}"


def validate_dataset(out: Location, phone_sample: int = 2000) -> list[Check]:
    out = open_store(out)
    manifest = read_manifest(out)
    checks: list[Check] = []

    bad = [s["file"] for s in manifest["shards"] if out.sha256(s["file"]) != s["sha256"]]
    checks.append(Check("shard checksums", not bad, f"{len(bad)} mismatched" if bad else
                        f"{len(manifest['shards'])} shards verified"))  # fmt: skip
    t = load_table(out)
    checks.append(Check("row count", t.num_rows == manifest["rows"],
                        f"{t.num_rows} rows, manifest says {manifest['rows']}"))  # fmt: skip
    prov = json.loads(t.schema.metadata[b"profilegen"])
    ref = dt.date.fromisoformat(prov["reference_date"])

    for col in ("user_id", "username", "email"):
        n_unique = pc.count_distinct(t[col]).as_py()
        checks.append(Check(f"{col} unique", n_unique == t.num_rows, f"{n_unique} distinct"))

    domains = pc.list_element(pc.split_pattern(t["email"], "@", max_splits=1), 1)
    off = ~np.isin(domains.to_numpy(zero_copy_only=False), EMAIL_DOMAINS)
    checks.append(Check("emails on reserved domains", not off.any(), f"{_share(off)} elsewhere"))

    birth = t["birthdate"].to_numpy().astype("M8[D]")
    years = birth.astype("M8[Y]").astype(int) + 1970
    months = birth.astype("M8[M]").astype(int) % 12 + 1
    days = (birth - birth.astype("M8[M]")).astype(int) + 1
    had_birthday = (months < ref.month) | ((months == ref.month) & (days <= ref.day))
    age = ref.year - years - (~had_birthday)
    wrong = age != t["age"].to_numpy()
    checks.append(Check("age matches birthdate", not wrong.any(), f"{_share(wrong)} wrong"))

    created = t["created_at"].to_numpy().astype("M8[s]")
    b13 = (birth.astype("M8[M]") + 156).astype("M8[D]") + (days - 1).astype("m8[D]")
    early = created < b13.astype("M8[s]")
    late = created >= np.datetime64(ref, "s")
    checks.append(Check("account after 13th birthday", not early.any(), f"{_share(early)} early"))
    checks.append(Check("account before reference date", not late.any(), f"{_share(late)} late"))

    rng = np.random.default_rng(0)
    pick = rng.choice(t.num_rows, min(phone_sample, t.num_rows), replace=False)
    phones = t["phone"].take(pick).to_pylist()
    ccs = t["country_code"].take(pick).to_pylist()
    invalid = sum(
        not (p.startswith("+") and phonenumbers.is_valid_number(phonenumbers.parse(p)))
        or phonenumbers.region_code_for_number(phonenumbers.parse(p)) != cc
        for p, cc in zip(phones, ccs, strict=True)
    )
    checks.append(Check("phones valid for their country", invalid == 0,
                        f"{invalid} of {len(phones)} sampled invalid"))  # fmt: skip

    bad_tz = [z for z in pc.unique(t["timezone"]).to_pylist() if not _valid_tz(z)]
    checks.append(Check("timezones are IANA names", not bad_tz, f"{len(bad_tz)} unknown"))

    lat, lon = t["latitude"].to_numpy(), t["longitude"].to_numpy()
    off_map = (np.abs(lat) > 90) | (np.abs(lon) > 180)
    checks.append(Check("coordinates in range", not off_map.any(), f"{_share(off_map)} out"))

    young = t["age"].to_numpy() < 18
    occ = t["occupation"].to_numpy(zero_copy_only=False)
    kids_working = young & ~np.char.endswith(occ.astype(str), "student")
    checks.append(Check("under-18s are students", not kids_working.any(),
                        f"{_share(kids_working)} with a job"))  # fmt: skip
    if "avatar" in t.column_names:
        checks += _avatar_checks(t, rng)
    if "bio" in t.column_names:
        checks += _bio_checks(t)
    return checks


def _bio_checks(t: pa.Table) -> list[Check]:
    """Every bio is present, leak-free, unique, short enough, and says where it came from."""
    from pipeline.bios.gate import MAX_CHARS, has_leak

    bios = t["bio"].to_pylist()
    src = t["bio_source"].to_pylist()
    empty = sum(not b for b in bios)
    leaks = sum(has_leak(b) for b in bios if b)
    dups = len(bios) - len({b.lower() for b in bios if b}) - empty
    long = sum(len(b) > MAX_CHARS for b in bios if b)
    odd = sorted({s for s in src} - {"lm", "template"})
    return [
        Check("bios present", empty == 0, f"{empty} empty"),
        Check("bios without prompt leaks", leaks == 0, f"{leaks} leaked"),
        Check("bios unique", dups == 0, f"{dups} duplicates"),
        Check(f"bios <= {MAX_CHARS} chars", long == 0, f"{long} longer"),
        Check("bio_source is lm/template", not odd, f"{len(odd)} other values {odd[:3]}"),
    ]


def _avatar_checks(t: pa.Table, rng: np.random.Generator, sample: int = 300) -> list[Check]:
    """Avatars decode, say they are synthetic, carry the row's conditions, and look it."""
    import io

    from PIL import Image

    from pipeline.avatars.conditions import CONDITIONS, age_band

    pick = np.sort(rng.choice(t.num_rows, min(sample, t.num_rows), replace=False))
    rows = t.take(pick).select(["avatar", "avatar_attributes", "gender", "age"]).to_pylist()
    images, undecodable, unmarked = [], 0, 0
    for r in rows:
        try:
            img = Image.open(io.BytesIO(r["avatar"]["bytes"]))
            img.load()
        except Exception:  # any decoder error means a broken image
            undecodable += 1
            continue
        unmarked += "synthetic" not in img.text.get("Comment", "").lower()
        images.append(np.asarray(img.convert("RGB").resize((64, 64))))
    checks = [
        Check("avatars decode as PNG", undecodable == 0, f"{undecodable} of {len(rows)} broken"),
        Check("avatars marked synthetic", unmarked == 0, f"{unmarked} of {len(rows)} unmarked"),
    ]
    bands = np.array(CONDITIONS["age_band"], dtype=object)[age_band([r["age"] for r in rows])]
    wrong = sum(
        r["avatar_attributes"]["gender"] != r["gender"] or r["avatar_attributes"]["age_band"] != b
        for r, b in zip(rows, bands, strict=True)
    )
    checks.append(Check("avatar conditions = row's gender and age band", wrong == 0,
                        f"{wrong} of {len(rows)} differ"))  # fmt: skip
    if images and len(images) == len(rows):
        from pipeline.avatars.evaluate import feature_net
        from pipeline.avatars.metrics import predict

        pred = predict(feature_net(), np.stack(images))
        want_g = np.array([CONDITIONS["gender"].index(r["gender"]) for r in rows])
        want_a = np.array([CONDITIONS["age_band"].index(b) for b in bands])
        g_ok, a_ok = np.mean(pred["gender"] == want_g), np.mean(pred["age_band"] == want_a)
        # The classifier itself reads gender right ~93% of the time on real corpus avatars
        # and age band ~51% (age is weakly drawn in the art). The check asks for gender
        # clearly above chance (50%); the detail gives the rates to read against the ceiling.
        checks.append(Check("avatars look like their row (attribute classifier)", g_ok >= 0.6,
                            f"gender read back {g_ok:.0%}, age band {a_ok:.0%} "
                            f"(classifier ceiling ~93% / ~51%)"))  # fmt: skip
    return checks


def _valid_tz(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
        return True
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
