"""Features for the baseline detectors: pure functions from Arrow columns and numpy arrays to
float matrices (NaN where a user has too little to measure: the boosting model takes NaN
as missing; the forest's profile features never are).

Profile features are BotometerLite's (Yang et al. 2020, "Scalable and Generalizable Social
Bot Detection through Data Selection", table 1), each mapped to our columns; those with no
counterpart here are left out and named in LEFT_OUT. Behaviour features follow what the
literature says bots do: fake followers follow many and are followed by few, campaign
members follow each other and post near-duplicates at the same time, spammers post links
and hashtags, automated accounts post round the clock or in bursts.
"""

import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.core.rng import splitmix64

DAY_MS = 86_400_000
HOUR_MS = 3_600_000

# BotometerLite's 20 features in the paper's order, with the column each is computed from
# here (None: nothing in the data corresponds, so the feature is left out).
BOTOMETER_LITE = {
    "statuses_count": "posts_count",
    "followers_count": "followers_count",
    "friends_count": "following_count",
    "favourites_count": None,
    "listed_count": None,
    "default_profile": "avatar is null (the platform's default image)",
    "profile_use_background_image": None,
    "verified": "verified",
    "tweet_freq": "posts_count per day of account age",
    "followers_growth_rate": "followers_count per day of account age",
    "friends_growth_rate": "following_count per day of account age",
    "favourites_growth_rate": None,
    "listed_growth_rate": None,
    "followers_friends_ratio": "followers_count / following_count",
    "screen_name_length": "username",
    "num_digits_in_screen_name": "username",
    "name_length": "display_name",
    "num_digits_in_name": "display_name",
    "description_length": "bio",
    "screen_name_likelihood": "username, bigrams fitted on the train split",
}
PROFILE_FEATURES = [name for name, column in BOTOMETER_LITE.items() if column]
LEFT_OUT = [name for name, column in BOTOMETER_LITE.items() if not column]
# The profile columns those read; `default_profile` is made from the avatar's validity.
PROFILE_COLUMNS = ["username", "display_name", "bio", "created_at", "followers_count",
                   "following_count", "posts_count", "verified"]  # fmt: skip

GRAPH_FEATURES = [
    "in_degree",  # followers within the dataset
    "out_degree",  # accounts followed within the dataset
    "out_in_ratio",  # out / (in + 1): fake followers follow many, are followed by few
    "reciprocity",  # share of the user's follows that follow back (campaigns follow each other)
    "followee_in_degree",  # mean log in-degree of the accounts it follows
    "follower_out_degree",  # mean log out-degree of its followers
    "follow_day_burst",  # the largest share of its follows made on one day
]
ACTIVITY_FEATURES = [
    "posts_in_window",
    "reply_share",
    "repost_share",
    "hour_entropy",  # of the UTC posting hour, /log 24: round-the-clock posting is near 1
    "gap_cv",  # coefficient of variation of the gaps between posts: bursts are large
    "fast_gap_share",  # gaps under 10 minutes
    "links_per_post",
    "hashtags_per_post",
    "mentions_per_post",
    "log_likes_per_post",
]
DUPLICATE_FEATURES = [
    "near_duplicate_share",  # posts a near-duplicate of another user's post (MinHash LSH)
    "synchronized_duplicate_share",  # ... posted by the other user in the same UTC hour
]
POPULATION_FEATURES = ["created_same_hour"]  # accounts made in the same hour (creation bursts)

FAST_GAP_MS = 10 * 60_000
EDGE_BLOCK = 4_000_000
# MinHash over word 3-grams: HASHES minima in BANDS bands (LSH): two texts of Jaccard 0.8
# share a band with probability 0.88, of 0.5 with 0.23.
HASHES, BANDS = 16, 4
# Texts hashed per user (its first in time): a heavy poster's share is measured on these.
MAX_HASHED = 32
_SEEDS = splitmix64(np.arange(1, HASHES + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15))
_TAGS = r"https?://\S+|[@#][\p{L}\p{N}_]+"


def _num(col) -> np.ndarray:
    col = pc.cast(col, pa.float64())
    return np.nan_to_num(col.to_numpy(zero_copy_only=False).astype(np.float64), nan=0.0)


def _length(col) -> np.ndarray:
    return _num(pc.utf8_length(col))


def _digits(col) -> np.ndarray:
    return _num(pc.count_substring_regex(col, r"\p{Nd}"))


def epoch_ms(col) -> np.ndarray:
    return pc.cast(col, pa.timestamp("ms", "UTC")).cast(pa.int64()).to_numpy()


class ScreenNameBigrams:
    """Yang et al.'s screen name likelihood: the geometric mean of the frequencies of the
    name's character bigrams (bytes of the UTF-8), counted on the training names and
    add-one smoothed over the alphabet seen in them."""

    def __init__(self, counts: np.ndarray, alphabet: int):
        self.counts, self.alphabet = counts, alphabet

    @classmethod
    def fit(cls, names: pa.Array | pa.ChunkedArray) -> "ScreenNameBigrams":
        codes, _ = _bigrams(names)
        alphabet = len(np.unique(np.concatenate([codes >> 8, codes & 255]))) if len(codes) else 1
        return cls(np.bincount(codes, minlength=65536), alphabet)

    def __call__(self, names: pa.Array | pa.ChunkedArray) -> np.ndarray:
        codes, owner = _bigrams(names)
        log_p = np.log((self.counts + 1.0) / (self.counts.sum() + self.alphabet**2))
        n = len(names)
        pairs = np.bincount(owner, minlength=n)
        total = np.bincount(owner, weights=log_p[codes], minlength=n)
        unseen = -np.log(self.counts.sum() + self.alphabet**2)  # a name with no bigram
        return np.exp(np.where(pairs > 0, total / np.maximum(pairs, 1), unseen))


def _bigrams(names: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """(byte-pair code b0 * 256 + b1, the name's index) for adjacent bytes within each name."""
    a = pc.cast(names, pa.large_binary())
    a = a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a
    _, offsets, data = a.buffers()
    off = np.frombuffer(offsets, np.int64)[a.offset : a.offset + len(a) + 1]
    if len(a) == 0 or data is None or off[-1] == off[0]:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    v = np.frombuffer(data, np.uint8)[off[0] : off[-1]].astype(np.int64)
    off = off - off[0]
    codes = v[:-1] * 256 + v[1:]
    owner = np.repeat(np.arange(len(a)), np.diff(off))[:-1]
    keep = np.ones(len(codes), bool)
    last = off[1:] - 1  # a pair starting at a name's last byte crosses into the next name
    keep[last[(last >= 0) & (last < len(codes))]] = False
    return codes[keep], owner[keep]


def profile_features(
    t: pa.Table, default_profile: np.ndarray, reference_ms: int, bigrams: ScreenNameBigrams
) -> np.ndarray:
    """BotometerLite's features (PROFILE_FEATURES, in that order) of the rows of `t`
    (PROFILE_COLUMNS); `default_profile`: the rows without an avatar."""
    age_days = np.maximum((reference_ms - epoch_ms(t["created_at"])) / DAY_MS, 1.0)
    counts = ("posts_count", "followers_count", "following_count")
    statuses, followers, friends = (_num(t[c]) for c in counts)
    columns = {
        "statuses_count": statuses,
        "followers_count": followers,
        "friends_count": friends,
        "default_profile": default_profile.astype(np.float64),
        "verified": _num(t["verified"]),
        "tweet_freq": statuses / age_days,
        "followers_growth_rate": followers / age_days,
        "friends_growth_rate": friends / age_days,
        "followers_friends_ratio": followers / np.maximum(friends, 1.0),
        "screen_name_length": _length(t["username"]),
        "num_digits_in_screen_name": _digits(t["username"]),
        "name_length": _length(t["display_name"]),
        "num_digits_in_name": _digits(t["display_name"]),
        "description_length": _length(t["bio"]),
        "screen_name_likelihood": bigrams(t["username"]),
    }
    return np.column_stack([columns[name] for name in PROFILE_FEATURES])


def _share(count: np.ndarray, total: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, count / np.maximum(total, 1), np.nan)


def graph_features(n: int, src: np.ndarray, dst: np.ndarray, day: np.ndarray) -> np.ndarray:
    """GRAPH_FEATURES of users 0..n-1 from the follows `src` -> `dst` (row numbers) made on
    `day` (any integer day number). Edge keys are looked up in blocks of EDGE_BLOCK, so a
    30M-follow graph costs its sorted keys plus one block at a time."""
    indeg = np.bincount(dst, minlength=n).astype(np.float64)
    outdeg = np.bincount(src, minlength=n).astype(np.float64)
    pairs = np.sort(np.asarray(src, np.int64) * n + dst)
    reciprocated = np.zeros(n)
    for i in range(0, len(pairs), EDGE_BLOCK):
        s, d = np.asarray(src[i : i + EDGE_BLOCK], np.int64), dst[i : i + EDGE_BLOCK]
        back = d * np.int64(n) + s
        pos = np.minimum(np.searchsorted(pairs, back), len(pairs) - 1)
        reciprocated += np.bincount(s, weights=pairs[pos] == back, minlength=n)
    del pairs
    followee_in = np.bincount(src, weights=np.log1p(indeg[dst]), minlength=n)
    follower_out = np.bincount(dst, weights=np.log1p(outdeg[src]), minlength=n)
    burst = np.zeros(n)
    if len(src):
        days = int(np.max(day)) - int(np.min(day)) + 1
        per_day, count = np.unique(np.asarray(src, np.int64) * days + (day - np.min(day)),
                                   return_counts=True)  # fmt: skip
        np.maximum.at(burst, per_day // days, count)
    return np.column_stack([
        indeg,
        outdeg,
        outdeg / (indeg + 1.0),
        _share(reciprocated, outdeg),
        _share(followee_in, outdeg),
        _share(follower_out, indeg),
        _share(burst, outdeg),
    ])  # fmt: skip


def activity_features(n: int, posts: pa.Table, row: np.ndarray) -> np.ndarray:
    """ACTIVITY_FEATURES of users 0..n-1 from their `posts` (columns created_at, kind,
    text, hashtags, mentions, like_count); `row`: each post's author."""
    row = np.asarray(row, np.int64)
    t = epoch_ms(posts["created_at"])
    kind = np.asarray(posts["kind"].to_numpy(zero_copy_only=False), dtype=object)
    count = np.bincount(row, minlength=n).astype(np.float64)
    texts = np.bincount(row, weights=kind != "repost", minlength=n)

    hours = np.bincount(row * 24 + (t // HOUR_MS) % 24, minlength=n * 24).reshape(n, 24)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = hours / count[:, None]
        entropy = -np.nansum(np.where(p > 0, p * np.log(p), 0.0), axis=1) / np.log(24)
    entropy[count < 2] = np.nan

    order = np.lexsort((t, row))
    r, ts = row[order], t[order]
    same = r[1:] == r[:-1]
    gap, gap_row = (ts[1:] - ts[:-1])[same].astype(np.float64), r[1:][same]
    gaps = np.bincount(gap_row, minlength=n).astype(np.float64)
    mean = _share(np.bincount(gap_row, weights=gap, minlength=n), gaps)
    square = _share(np.bincount(gap_row, weights=gap**2, minlength=n), gaps)
    with np.errstate(invalid="ignore", divide="ignore"):
        cv = np.sqrt(np.maximum(square - mean**2, 0.0)) / mean
    cv[(gaps < 2) | ~np.isfinite(cv)] = np.nan

    links = _num(pc.count_substring_regex(posts["text"], "https?://"))
    tags = _num(pc.list_value_length(posts["hashtags"]))
    mentions = _num(pc.list_value_length(posts["mentions"]))
    likes = np.log1p(_num(posts["like_count"]))

    def per_text(x: np.ndarray) -> np.ndarray:
        return _share(np.bincount(row, weights=x, minlength=n), texts)

    return np.column_stack([
        count,
        _share(np.bincount(row, weights=kind == "reply", minlength=n), count),
        _share(np.bincount(row, weights=kind == "repost", minlength=n), count),
        entropy,
        cv,
        _share(np.bincount(gap_row, weights=gap < FAST_GAP_MS, minlength=n), gaps),
        per_text(links),
        per_text(tags),
        per_text(mentions),
        _share(np.bincount(row, weights=likes, minlength=n), count),
    ])  # fmt: skip


def _word_hash(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")


def text_signatures(texts: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """(index of each text with 3 words or more, its LSH band keys (len x BANDS uint64)):
    MinHash of the word 3-grams after lowercasing and dropping links, @mentions and #tags,
    so two texts share a key when they say the same thing to different people."""
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    clean = pc.replace_substring_regex(pc.utf8_lower(texts), _TAGS, " ")
    words = pc.split_pattern_regex(clean, r"[^\p{L}\p{N}]+")
    flat, parent = pc.list_flatten(words), pc.list_parent_indices(words)
    keep = pc.greater(pc.utf8_length(flat), 0)
    flat, parent = pc.filter(flat, keep), pc.filter(parent, keep).to_numpy()
    none = np.zeros(0, np.int64), np.zeros((0, BANDS), np.uint64)
    if len(flat) < 3:
        return none
    encoded = pc.dictionary_encode(flat)
    vocab = np.array([_word_hash(w) for w in encoded.dictionary.to_pylist()], np.uint64)
    w = vocab[encoded.indices.to_numpy()]
    gram = parent[2:] == parent[:-2]
    if not gram.any():
        return none
    shingle = splitmix64(splitmix64(splitmix64(w[:-2]) ^ w[1:-1]) ^ w[2:])[gram]
    owner = parent[2:][gram]
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    minima = np.column_stack([np.minimum.reduceat(splitmix64(shingle ^ s), starts)
                              for s in _SEEDS])  # fmt: skip
    rows = HASHES // BANDS
    keys = np.empty((len(starts), BANDS), np.uint64)
    for b in range(BANDS):
        k = np.full(len(starts), np.uint64(b))
        for j in range(b * rows, (b + 1) * rows):
            k = splitmix64(k ^ minima[:, j])
        keys[:, b] = k
    return owner[starts].astype(np.int64), keys


def shared_by_others(keys: np.ndarray, user: np.ndarray) -> np.ndarray:
    """For each row of `keys` (texts x bands), whether another user's text has the same key
    in one of the bands (a band at a time: keys of different bands never meet)."""
    user = np.asarray(user, np.int64)
    out = np.zeros(len(keys), bool)
    if not len(keys):
        return out
    for b in range(keys.shape[1]):
        order = np.lexsort((user, keys[:, b]))
        k, u = keys[order, b], user[order]
        start = np.r_[True, k[1:] != k[:-1]]
        end = np.r_[start[1:], True]
        several = u[start] != u[end]  # sorted by user within a key: first != last
        out[order] |= several[np.cumsum(start) - 1]
    return out


def duplicate_features(n: int, user: np.ndarray, keys: np.ndarray, hour: np.ndarray) -> np.ndarray:
    """DUPLICATE_FEATURES of users 0..n-1 from their hashed texts (`user`, band `keys`, UTC
    `hour` number of each)."""
    user = np.asarray(user, np.int64)
    hashed = np.bincount(user, minlength=n)
    near = shared_by_others(keys, user)
    timed = splitmix64(keys ^ splitmix64(np.asarray(hour, np.uint64))[:, None])
    sync = shared_by_others(timed, user)
    return np.column_stack([
        _share(np.bincount(user, weights=near, minlength=n), hashed),
        _share(np.bincount(user, weights=sync, minlength=n), hashed),
    ])  # fmt: skip


def population_features(created_ms: np.ndarray) -> np.ndarray:
    """POPULATION_FEATURES: how many accounts of the dataset were made in the same hour."""
    hour = np.asarray(created_ms, np.int64) // HOUR_MS
    _, inverse, counts = np.unique(hour, return_inverse=True, return_counts=True)
    return counts[inverse].astype(np.float64)[:, None]
