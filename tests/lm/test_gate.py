import pytest

from pipeline.lm.gate import (
    LEAK_PATTERNS,
    REASONS,
    check_text,
    clean_text,
    detect_language,
    has_leak,
    other_names,
)

ROW = {
    "user_id": 5407638416405617734,
    "username": "david_garcia1067",
    "display_name": "David Garcia",
    "first_name": "David",
    "last_name": "Garcia",
    "first_name_latin": "David",
    "last_name_latin": "Garcia",
    "gender": "male",
    "age": 44,
    "email": "david1067@example.net",
    "locale": "en_US",
    "language": "en",
    "country_code": "US",
    "city": "Austin",
    "region": "Texas",
    "latitude": 30.27,
    "longitude": -97.74,
    "occupation": "Registered nurse",
    "interests": ["Camping", "Tech gadgets"],
    "website": "https://www.example.org/david_garcia1067",
}


def row(**kw):
    return {**ROW, **kw}


BAD = [
    # Prompt leakage and chatter.
    ("Here's a bio for Maria: nurse in Austin who loves camping.", "leak"),
    ("As an AI language model, I cannot write about real people.", "leak"),
    ("Sure! Nurse in Austin who loves camping and gadgets.", "leak"),
    ("Certainly, here is a short bio: nurse in Austin, Texas.", "leak"),
    ("Name: David. Occupation: nurse. Interests: camping.", "leak"),
    ("Nurse in Austin, tone: warm, written in first person.", "leak"),
    ("Nurse in Austin who loves camping (one-sentence bio).", "leak"),
    ("<|im_start|>assistant Nurse in Austin who loves camping", "leak"),
    ("**Nurse** in Austin who loves camping and gadgets.", "leak"),
    ("Hi, I'm [Your Name], a nurse in Austin who loves camping.", "leak"),
    ("Nurse in Austin who loves camping. Hope this helps!", "leak"),
    ("Nurse in Austin with a big heart, plus a couple of emojis.", "leak"),
    ("Nurse in Austin. Check out my profile for camping tips.", "leak"),
    # Quotes around the answer, or a lone one.
    ('"Nurse in Austin who loves camping and gadgets"', "quotes"),
    ("“Nurse in Austin who loves camping and gadgets.”", "quotes"),
    ("'Nurse in Austin who loves camping and gadgets.'", "quotes"),
    ('"Nurse in Austin who loves camping and gadgets.', "quotes"),
    # Loops.
    ("I love love love hiking and camping in Texas.", "repeat"),
    ("Nurse in Austin. I love camping and I love camping with friends.", "repeat"),
    # Length.
    ("", "empty"),
    ("Nurse in Austin.", "too_short"),
    ("Nurse in Austin who loves camping. " * 5, "too_long"),
    # Someone else's name, age or city.
    ("Jessica is a nurse in Austin who loves camping.", "name"),
    ("Hi, I'm Sarah, a nurse in Austin who loves camping.", "name"),
    ("32-year-old nurse in Austin who loves camping.", "age"),
    ("I'm 32 and a nurse in Austin who loves camping.", "age"),
    ("Nurse in Austin, in my 30s and loving camping.", "age"),
    ("Nurse in Paris who loves camping and tech gadgets.", "city"),
    ("Born in San Diego, now a nurse who loves camping.", "city"),
    ("Nurse from Tokyo who loves camping and tech gadgets.", "city"),
    # Links and handles that are not the row's.
    ("Nurse in Austin. Visit https://evil.com for camping tips.", "url"),
    ("Nurse in Austin. Camping tips at www.evil.com every week.", "url"),
    ("Nurse in Austin. Camping tips at evil.io every week.", "url"),
    ("Nurse in Austin. Email me at x@gmail.com about camping.", "email"),
    ("Nurse in Austin, ping @someone_else for camping tips.", "mention"),
    ("Nurse in Austin who loves camping #a #b #c #d", "hashtags"),
    # Not the requested language.
    ("Медсестра из Остина, люблю походы и гаджеты.", "language"),
    ("Enfermero en Austin, amante del camping y de la tecnología.", "language"),
    ("オースティン在住の看護師です。キャンプが大好き。", "language"),
    ("Nurse in Austin who loves camping. Cường phục điểm, thàn kí nhân cách mong?", "language"),
    # A pronoun of the other gender, with nothing else it could refer to.
    ("David works as a nurse in Austin. She loves camping and gadgets.", "pronoun"),
]


@pytest.mark.parametrize("text,reason", BAD)
def test_bad_bios_are_rejected_with_their_reason(text, reason):
    assert reason in REASONS
    assert check_text(clean_text(text), ROW) == reason


GOOD = [
    "Nurse in Austin who loves camping and tech gadgets.",
    "David, 44, nurse in Austin, Texas. Camping and tech gadgets on weekends.",
    "I'm David Garcia, a 44-year-old nurse in Austin who loves camping.",
    "Registered nurse from Texas, USA. Happiest in a tent under the stars.",
    "Nurse in Austin. Email me at david1067@example.net about camping.",
    "Nurse in Austin. Find me at https://www.example.org/david_garcia1067 or @david_garcia1067",
    "Nurse in Austin who loves camping. #nurselife #camping",
    "Nurse in Austin and proud dad of a 15-year-old. Camping is life.",
    "Nurse with 20 years of experience in Austin. Loves camping.",
    "Teaching 13-year-olds to camp on weekends. Nurse in Austin.",
    "Nurse in Austin, in my 40s and loving every camping trip.",
    "Will camp for coffee. Nurse in Austin with a big heart.",
    "Grace under pressure at work, joy on the trail. Nurse in Austin.",
    "May the trail be with you. Nurse in Austin who loves camping.",
    "Hope, coffee and a good tent. Nurse living in Austin.",
    "Nurse who lives by 'leave no trace' and loves camping in Texas.",
    "Nurse in Austin, Manchester United fan, camping on weekends.",
    "Nurse who grew up in Georgia, now camping all over Texas.",
    "Here's to long shifts and longer camping trips. Nurse in Austin.",
    "Nurse in Austin who loves camping, gadgets and good coffee ☕🏕️",
    "David is a nurse in Austin. His wife says he camps far too much.",
    "Nurse in Austin. My daughter says she camps better than me.",
]


@pytest.mark.parametrize("text", GOOD)
def test_good_bios_pass(text):
    assert check_text(clean_text(text), ROW) is None


def test_own_fields_that_look_like_other_things_pass():
    # A first name that is a big city, a city whose words are names, a metro-area city.
    assert check_text("Hi, I'm Austin, a nurse in Dallas who loves camping.",
                     row(first_name="Austin", first_name_latin="Austin", display_name="Austin Lee",
                         city="Dallas", latitude=32.78, longitude=-96.8)) is None  # fmt: skip
    assert check_text("Nurse in San Diego who loves camping and surfing.",
                     row(city="San Diego", region="California", latitude=32.7,
                         longitude=-117.2)) is None  # fmt: skip
    near = row(city="Round Rock", latitude=30.51, longitude=-97.68)
    assert check_text("Nurse from Round Rock, just north of Austin. Loves camping.", near) is None
    far = row(city="Round Rock", latitude=None, longitude=None)
    assert check_text("Nurse from Round Rock, just north of Austin. Loves camping.", far) == "city"
    assert check_text("Nurse in Cerro Grande do Sul, Rio Grande do Sul. Loves camping.",
                     row(city="Cerro Grande do Sul", region="Rio Grande do Sul",
                         country_code="BR")) is None  # fmt: skip


def test_pronouns_follow_the_row():
    maria = row(first_name="Maria", first_name_latin="Maria", display_name="Maria Garcia",
                gender="female")  # fmt: skip
    assert check_text("Maria is a nurse in Austin. She loves camping.", maria) is None
    assert check_text("Maria is a nurse in Austin; her husband says he camps a lot.", maria) is None
    assert check_text("Maria is a nurse in Austin. He loves camping.", maria) == "pronoun"
    assert (
        check_text("Maria is a nurse in Austin. He loves camping.", {**maria, "gender": None})
        is None
    )


def test_non_latin_rows_and_languages():
    ko = row(first_name="현정", first_name_latin="Hyunjung", last_name="김", last_name_latin="Kim",
             display_name="김현정", city="Busan", region="Busan", country_code="KR",
             latitude=35.1, longitude=129.0)  # fmt: skip
    assert check_text("Hi, I'm Hyunjung, a nurse in Busan who loves camping.", ko) is None
    assert check_text("부산에 사는 간호사입니다. 캠핑과 전자기기를 좋아해요.", ko, "ko") is None
    assert (
        check_text("부산에 사는 간호사입니다. 캠핑과 전자기기를 좋아해요.", ko, "en") == "language"
    )
    assert check_text("Hi, I'm Hyunjung, a nurse in Busan who loves camping.", ko, "ko") == (
        "language"
    )
    ru = row(first_name="Мария", first_name_latin="Mariya", city="Moscow", region="Moscow",
             country_code="RU", latitude=55.75, longitude=37.6)  # fmt: skip
    assert check_text("Медсестра из Москвы, люблю походы и гаджеты.", ru, "ru") is None
    assert check_text("東京在住の看護師です。キャンプが大好き。", ROW, "ja") is None


@pytest.mark.parametrize(
    "text,lang",
    [
        ("I am a nurse and I love camping with my family", "en"),
        ("Soy enfermera y me encanta el camping con mi familia", "es"),
        ("Sou enfermeira e amo acampar com a minha família", "pt"),
        ("Je suis infirmière et j'adore le camping avec mes amis", "fr"),
        ("Ich bin Krankenpfleger und liebe das Campen mit meiner Familie", "de"),
        ("Sono un'infermiera e amo il campeggio con la mia famiglia", "it"),
        ("Ik ben verpleegster en ik hou van kamperen met mijn gezin", "nl"),
        ("Jag är sjuksköterska och älskar att campa med min familj", "sv"),
        ("Jestem pielęgniarką i kocham biwakowanie z rodziną", "pl"),
        ("Ben bir hemşireyim ve ailemle kamp yapmayı çok seviyorum", "tr"),
        ("Saya seorang perawat dan suka berkemah dengan keluarga", "id"),
        ("Tôi là y tá và tôi yêu thích cắm trại với gia đình", "vi"),
        ("Медсестра из Москвы, люблю походы и гаджеты", "ru"),
        ("Медсестра з Києва, люблю походи та ґаджети", "uk"),
        ("東京在住の看護師です。キャンプが大好き", "ja"),
        ("我是一名护士，喜欢露营和电子产品", "zh"),
        ("부산에 사는 간호사입니다. 캠핑을 좋아해요", "ko"),
        ("ممرضة من الرياض أحب التخييم", "ar"),
        ("मैं एक नर्स हूँ और मुझे कैंपिंग पसंद है", "hi"),
        ("พยาบาลจากกรุงเทพ ชอบตั้งแคมป์", "th"),
        ("Nurse", None),  # too short to tell
        ("Camping, gadgets, coffee", None),  # no function words
    ],
)
def test_detect_language(text, lang):
    assert detect_language(text) == lang


def test_clean_bio_is_cosmetic():
    assert (
        clean_text("  Nurse in\n Austin.\t Loves   camping.  ") == "Nurse in Austin. Loves camping."
    )
    # It never repairs: the leak is still there to be rejected.
    leaky = clean_text('  "Here\'s a bio for Maria:\n nurse in Austin."  ')
    assert has_leak(leaky) and check_text(leaky, ROW) == "leak"


def test_has_leak_screen_matches_the_regex():
    # has_leak skips the regex when no key substring is present; it must never change the
    # answer. Check it on every leak above, on every good bio, and on spliced variants.
    texts = [t for t, _ in BAD] + GOOD
    texts += [a + " " + b for a in texts[:20] for b in texts[-20:]]
    texts += ["Okay: nurse in Austin", "- nurse in Austin", "Line one\n* item", "# Nurse"]
    texts += ["Here  is a nurse", "i cannot write this", "endoftext", "Nurse. 160 characters"]
    for t in texts:
        assert has_leak(t) == (LEAK_PATTERNS.search(t) is not None), t


def test_other_names_skip_common_words():
    names = other_names()
    assert {"Jessica", "Sarah", "Maria"} <= names
    assert not {"Will", "May", "Hope", "Joy", "Grace", "Art", "Bill", "Mark", "Rose", "Summer",
                "Dawn", "Faith", "Sky", "Can", "Yoga"} & names  # fmt: skip
    assert all(len(n) >= 3 for n in names)


def test_reasons_are_the_fixed_set():
    assert len(set(REASONS)) == len(REASONS)
    seen = {check_text(clean_text(t), ROW) for t, _ in BAD}
    assert seen <= set(REASONS)


def test_other_occupations_are_rejected():
    # Another job from our table contradicts the row's own.
    dev = row(occupation="Mobile app developer")
    assert check_text("Mobile app developer in Austin. I'm also a registered nurse at night.",
                     dev) == "occupation"  # fmt: skip
    r = row(occupation="Registered nurse")
    assert check_text("Registered nurse in Austin. Night shifts and jazz.", r) is None
    assert check_text("Nurse in Austin. Night shifts and jazz.", r) is None  # part of own title
