"""The config: defaults, file, flags, and every way to get it wrong."""

import datetime as dt

import pytest

from pipeline.config import build_config
from pipeline.errors import ProfilegenError
from pipeline.identity.locales import DEFAULT_MIX, LOCALES
from pipeline.identity.options import parse_locales


def test_defaults_are_a_world_mix_of_twenty_plus_locales():
    cfg = build_config(None)
    assert cfg.locales == DEFAULT_MIX
    assert len(LOCALES) >= 20 and set(DEFAULT_MIX) <= set(LOCALES)
    assert {"ja_JP", "zh_CN", "ru_RU", "ko_KR", "ar_SA", "hi_IN"} <= set(LOCALES)
    assert abs(sum(DEFAULT_MIX.values()) - 1) < 1e-9
    assert cfg.reference_date == dt.date(2026, 1, 1)


def test_locale_spec_parses():
    assert parse_locales("en_US:0.6, ja_JP:0.4") == {"en_US": 0.6, "ja_JP": 0.4}
    assert parse_locales("de_DE") == {"de_DE": 1.0}


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"locales": "xx_XX:1"}, "unknown locale 'xx_XX'"),
        ({"locales": "en_US:0.5,ja_JP:0.4"}, "weights sum to 0.9, not 1"),
        ({"locales": "en_US:abc"}, "not a number"),
        ({"locales": "en_US:-1,ja_JP:2"}, "must be > 0"),
        ({"rows": 0}, "rows"),
        ({"rows": "-5"}, "rows"),
        ({"seed": "abc"}, "seed: must be an integer, got 'abc'"),
        ({"seed": 1.5}, "seed: must be an integer"),
        ({"shard_rows": 0}, "shard_rows"),
        ({"age_min": 40, "age_max": 30}, "age_min 40 is above age_max 30"),
        ({"age_min": 10}, "age_min"),
        ({"avatars": "gan2"}, "avatars"),
    ],
)
def test_bad_values_raise_one_clear_line(overrides, message):
    with pytest.raises(ProfilegenError) as e:
        build_config(None, **overrides)
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_file_then_flags(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("rows: 50\nseed: 3\nlocales: {de_DE: 0.5, fr_FR: 0.5}\n")
    cfg = build_config(f, seed="9")
    assert (cfg.rows, cfg.seed, cfg.locales) == (50, 9, {"de_DE": 0.5, "fr_FR": 0.5})
    t = tmp_path / "c.toml"
    t.write_text('rows = 70\nlocales = "ko_KR:1"\nreference_date = 2024-06-30\n')
    cfg = build_config(t)
    assert (cfg.rows, cfg.locales, cfg.reference_date) == (70, {"ko_KR": 1.0}, dt.date(2024, 6, 30))


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("bad.yaml", "rows: [1, 2\n", "is malformed"),
        ("bad.toml", "rows = = 3\n", "is malformed"),
        ("unknown.yaml", "rowz: 3\n", "unknown key 'rowz'"),
        ("list.yaml", "- 1\n- 2\n", "must hold a mapping"),
        ("c.json", "{}", "use a .yaml, .yml or .toml file"),
        ("seed.yaml", "seed: 1.5\n", "seed: must be an integer"),
    ],
)
def test_bad_config_files(tmp_path, name, text, message):
    f = tmp_path / name
    f.write_text(text)
    with pytest.raises(ProfilegenError) as e:
        build_config(f)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_missing_config_file(tmp_path):
    with pytest.raises(ProfilegenError, match="does not exist"):
        build_config(tmp_path / "nope.yaml")


def test_hash_ignores_where_and_how_but_not_what():
    a = build_config(None, out="x", workers=1, avatars="none")
    assert a.config_hash == build_config(None, out="y", workers=4, avatars="none").config_hash
    assert a.config_hash != build_config(None, seed=1, avatars="none").config_hash
    # Locale order in the spec is not part of the identity of a dataset.
    assert (
        build_config(None, locales="en_US:0.5,de_DE:0.5", avatars="none").config_hash
        == build_config(None, locales="de_DE:0.5,en_US:0.5", avatars="none").config_hash
    )
