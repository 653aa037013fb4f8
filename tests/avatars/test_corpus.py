import numpy as np
import pytest
from PIL import Image

import pipeline.avatars.corpus as ac
from pipeline.avatars.conditions import CONDITIONS
from pipeline.errors import ProfilegenError


def _idx(attr: str, name: str) -> int:
    return ac.ATTRIBUTES[attr].index(name)


@pytest.fixture(scope="module")
def labels():
    return ac.sample_labels(np.random.default_rng(11), 800)


# --- sampling ----------------------------------------------------------------------------


def test_labels_are_in_range(labels):
    assert set(labels) == set(CONDITIONS) | set(ac.ATTRIBUTES)
    for key, values in {**CONDITIONS, **ac.ATTRIBUTES}.items():
        a = labels[key]
        assert a.dtype == np.int64 and a.shape == (800,)
        assert a.min() >= 0 and a.max() < len(values), key
    # every gender x age cell is seen, so the GAN gets every combination
    cells = set(zip(labels["gender"].tolist(), labels["age_band"].tolist(), strict=True))
    assert len(cells) == len(CONDITIONS["gender"]) * len(CONDITIONS["age_band"])


def test_labels_are_deterministic():
    a = ac.sample_labels(np.random.default_rng(3), 50)
    b = ac.sample_labels(np.random.default_rng(3), 50)
    c = ac.sample_labels(np.random.default_rng(4), 50)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert any(not np.array_equal(a[k], c[k]) for k in a)


def test_attributes_follow_conditions(labels):
    female = labels["gender"] == CONDITIONS["gender"].index("female")
    assert (labels["facial_hair"][female] == 0).all()
    beard = (labels["facial_hair"][~female] != 0).mean()
    assert 0.15 < beard < 0.45  # ~30% of men

    grey = np.isin(labels["hair_color"], [_idx("hair_color", g) for g in ac.GREY])
    by_age = [grey[labels["age_band"] == a].mean() for a in range(len(CONDITIONS["age_band"]))]
    assert np.argmax(by_age) == 3 and by_age[3] > 0.5 and by_age[0] == 0

    tops = np.array(ac.ATTRIBUTES["top"])[labels["top"]]
    assert np.isin(tops[female], ac.TOPS_LONG).mean() > 0.5
    assert np.isin(tops[~female], ac.TOPS_SHORT).mean() > 0.7

    # skin labels are realised by the matching SkinColor values only
    skin_names = np.array(ac.ATTRIBUTES["skin_color"])[labels["skin_color"]]
    for s, name in enumerate(CONDITIONS["skin"]):
        allowed = [c.lower() for c in ac.SKIN_COLORS[name]]
        assert np.isin(skin_names[labels["skin"] == s], allowed).all()


def test_no_unfriendly_faces():
    for attr, bad in {
        "mouth": {"vomit", "scream_open", "grimace", "sad", "concerned", "eating", "disbelief"},
        "eyes": {"x_dizzy", "eye_roll", "cry", "heart", "closed", "surprised", "wink_wacky"},
        "eyebrows": {"angry", "angry_natural", "sad_concerned", "unibrow_natural"},
        "accessory": {"eyepatch"},
        "clothing": {"astronaut_suit", "chef", "gladiator", "jedi_robe"},
    }.items():
        assert not bad & set(ac.ATTRIBUTES[attr]), attr


def test_every_value_maps_to_python_avatars():
    # also guards the SVG-slot scan: a typo in a name would raise here, not mid-corpus
    rows = len(max(ac.ATTRIBUTES.values(), key=len))
    labels = {k: np.arange(rows) % len(v) for k, v in ac.ATTRIBUTES.items()}
    for i in range(rows):
        ac._avatar(labels, i)


def test_every_hair_top_takes_the_hair_colour():
    # python-avatars 1.4 ignores the colour for a few tops (e.g. straight_2); keep them out
    base = ac.sample_labels(np.random.default_rng(0), 1)
    base["accessory"][:] = 0
    base["facial_hair"][:] = 0
    for t, name in enumerate(ac.ATTRIBUTES["top"]):
        if name in ac.HATS or name == "no_hair":
            continue
        out = []
        for colour in ("black", "pastel_blue"):
            row = dict(base, top=np.array([t]), hair_color=np.array([_idx("hair_color", colour)]))
            out.append(ac.render(row, 0, 32).astype(int))
        assert np.abs(out[0] - out[1]).sum(-1).max() > 100, name


# --- rendering ---------------------------------------------------------------------------


def _hex(c: str) -> np.ndarray:
    return np.array([int(c[i : i + 2], 16) for i in (1, 3, 5)])


def test_render_is_square_not_blank_and_centred(labels):
    import python_avatars as pa

    for i in range(8):
        im = ac.render(labels, i, 48)
        assert im.shape == (48, 48, 3) and im.dtype == np.uint8
        assert im.std() > 20
        skin = _hex(
            pa.SkinColor[ac.ATTRIBUTES["skin_color"][labels["skin_color"][i]].upper()].value
        )
        centre = im[16:32, 16:32].astype(int)
        near = np.abs(centre - skin).max(-1) < 12
        assert near.mean() > 0.2, i  # the face fills the middle
        border = np.concatenate([im[:, 0], im[:, -1]]).astype(int)
        assert (np.abs(border - skin).max(-1) < 12).mean() < 0.5  # not cut off at the sides


def test_circle_style_is_filled_with_the_background():
    row = ac.sample_labels(np.random.default_rng(1), 1)
    row.update(
        style=np.array([_idx("style", "circle")]),
        top=np.array([_idx("top", "no_hair")]),
        background=np.array([_idx("background", "pale_green")]),
    )
    im = ac.render(row, 0, 64)
    # inside the circle, left of the head (canvas (40, 150) in the 264x280 drawing)
    x0, y0, side = ac.CROP
    x, y = int((40 - x0) / side * 64), int((150 - y0) / side * 64)
    assert np.abs(im[y, x].astype(int) - _hex(ac.BACKGROUNDS["pale_green"])).max() <= 2


# --- corpus: determinism and cache -------------------------------------------------------


def test_build_corpus_is_deterministic_whatever_the_workers(tmp_path):
    a = ac.build_corpus(24, 32, seed=5, cache_dir=tmp_path / "a", workers=1)
    b = ac.build_corpus(24, 32, seed=5, cache_dir=tmp_path / "b", workers=2)
    assert a.images.shape == (24, 32, 32, 3) and a.images.dtype == np.uint8
    assert np.array_equal(a.images, b.images)
    assert all(np.array_equal(a.labels[k], b.labels[k]) for k in a.labels)
    assert set(CONDITIONS) <= set(a.labels)
    assert "24 synthetic" in a.description
    c = ac.build_corpus(24, 32, seed=6, cache_dir=tmp_path / "a", workers=1)
    assert not np.array_equal(a.images, c.images)


def test_spawn_workers_give_the_same_images(monkeypatch):
    # macOS and Windows have no fork; the spawn fallback must render the same rows
    labels = ac.sample_labels(np.random.default_rng(2), 20)
    forked = ac.render_all(labels, 24, workers=2)
    monkeypatch.setattr(ac.mp, "get_all_start_methods", lambda: ["spawn"])
    spawned = ac.render_all(labels, 24, workers=2)
    assert np.array_equal(forked, spawned)
    assert np.array_equal(forked[7], ac.render(labels, 7, 24))


def test_cache_round_trip(tmp_path, monkeypatch):
    first = ac.build_corpus(16, 32, seed=9, cache_dir=tmp_path, workers=2)
    (path,) = tmp_path.glob("*.npz")
    assert path == ac.cache_path(16, 32, 9, tmp_path)
    assert not list(tmp_path.glob("*.tmp"))

    def boom(*a, **k):
        raise AssertionError("rendered instead of loading the cache")

    monkeypatch.setattr(ac, "render_all", boom)
    second = ac.build_corpus(16, 32, seed=9, cache_dir=tmp_path, workers=2)
    assert np.array_equal(first.images, second.images)
    assert all(np.array_equal(first.labels[k], second.labels[k]) for k in first.labels)
    assert second.description == first.description


def test_broken_cache_is_rebuilt(tmp_path):
    path = ac.cache_path(8, 16, 1, tmp_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a zip")
    corpus = ac.build_corpus(8, 16, seed=1, cache_dir=tmp_path, workers=1)
    assert corpus.images.shape == (8, 16, 16, 3)
    assert ac._load(path, 8, 16) is not None


def test_default_cache_dir_follows_env(tmp_path, monkeypatch):
    monkeypatch.setenv("PROFILEGEN_CACHE_DIR", str(tmp_path))
    assert ac.cache_path(1, 2, 3).parent == tmp_path


def test_build_corpus_rejects_bad_sizes(tmp_path):
    with pytest.raises(ProfilegenError, match="at least 1"):
        ac.build_corpus(0, 32, seed=0, cache_dir=tmp_path)
    with pytest.raises(ProfilegenError, match="at least 8 px"):
        ac.build_corpus(4, 4, seed=0, cache_dir=tmp_path)


# --- user folders ------------------------------------------------------------------------


def _photo(path, w, h, colour=(200, 30, 30), mode="RGB", fmt=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    im = Image.new(mode, (w, h), colour if mode == "RGB" else (*colour, 0))
    if mode == "RGB":  # a marker in the centre, to check the crop keeps the middle
        r = min(w, h) // 8
        im.paste((0, 0, 255), (w // 2 - r, h // 2 - r, w // 2 + r, h // 2 + r))
    im.save(path, fmt)


def test_load_folder(tmp_path):
    _photo(tmp_path / "b.png", 120, 80)
    _photo(tmp_path / "a.jpg", 64, 200, colour=(20, 160, 20))
    _photo(tmp_path / "sub" / "c.JPEG", 100, 100, fmt="JPEG")
    _photo(tmp_path / "d.png", 50, 50, mode="RGBA")  # fully transparent: composited on white
    (tmp_path / "labels.csv").write_text(
        "filename,gender,age_band\nsub/c.JPEG,male,65+\n./a.jpg,female,\n"
    )
    corpus = ac.load_folder(tmp_path, 32)
    assert corpus.images.shape == (4, 32, 32, 3) and corpus.images.dtype == np.uint8
    # sorted by relative path: a.jpg, b.png, d.png, sub/c.JPEG
    assert tuple(corpus.images[0, 0, 0].tolist()) == pytest.approx((20, 160, 20), abs=8)
    assert tuple(corpus.images[1, 16, 16].tolist()) == pytest.approx((0, 0, 255), abs=40)
    assert (corpus.images[2] == 255).all()
    assert corpus.labels["gender"].tolist() == [0, -1, -1, 1]
    assert corpus.labels["age_band"].tolist() == [-1, -1, -1, 3]
    assert corpus.labels["skin"].tolist() == [-1] * 4
    assert "4 images" in corpus.description and "2 with labels" in corpus.description
    assert str(tmp_path.parent) not in corpus.description  # no home paths in model cards


def test_load_folder_without_labels_is_unknown(tmp_path):
    _photo(tmp_path / "x.png", 40, 40)
    corpus = ac.load_folder(tmp_path, 40)
    assert {k: v.tolist() for k, v in corpus.labels.items()} == {k: [-1] for k in CONDITIONS}


def test_load_folder_skips_unreadable_with_a_warning(tmp_path):
    _photo(tmp_path / "ok.png", 40, 40)
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 nope")
    with pytest.warns(UserWarning, match="1 corrupt"):
        corpus = ac.load_folder(tmp_path, 32)
    assert len(corpus.images) == 1


def _error(path, size=32) -> str:
    with pytest.raises(ProfilegenError) as e:
        ac.load_folder(path, size)
    msg = str(e.value)
    assert "\n" not in msg
    return msg


def test_load_folder_errors(tmp_path):
    assert "not found" in _error(tmp_path / "nope")

    empty = tmp_path / "empty"
    empty.mkdir()
    assert "empty" in _error(empty)

    junk = tmp_path / "junk"
    for name in ("notes.txt", "clip.mp4", "doc.pdf"):
        (junk / name).parent.mkdir(parents=True, exist_ok=True)
        (junk / name).write_text("hello")
    (junk / "bad.png").write_bytes(b"\x89PNG garbage")
    (junk / "bad.jpg").write_bytes(b"")
    assert _error(junk) == f"0 readable images in {junk}: 3 not images, 2 corrupt"

    small = tmp_path / "small"
    _photo(small / "a.png", 100, 100)
    _photo(small / "b.png", 20, 30)
    _photo(small / "c.png", 40, 25)
    msg = _error(small, 64)
    assert "2 image(s)" in msg and "smaller than 64 px" in msg and "b.png, 20x30" in msg


@pytest.mark.parametrize(
    "csv, expected",
    [
        ("filename,gender,mood\na.png,male,happy\n", "unknown column 'mood'"),
        ("filename,age_band\na.png,30-40\n", "line 2: unknown age_band '30-40'"),
        ("filename,gender\na.png,Male\n", "unknown gender 'Male'"),
        ("name,gender\na.png,male\n", "needs a 'filename' column"),
        ("filename,gender\nzz.png,male\n", "not in the folder, e.g. 'zz.png'"),
        ("filename,gender\na.png,male\na.png,female\n", "listed twice"),
    ],
)
def test_labels_csv_errors(tmp_path, csv, expected):
    _photo(tmp_path / "a.png", 40, 40)
    (tmp_path / "labels.csv").write_text(csv)
    assert expected in _error(tmp_path)
