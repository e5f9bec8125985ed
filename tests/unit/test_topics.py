"""Topics: loading and validation, the bundled queries on realistic sentences, tagging at write time, retag."""

from __future__ import annotations

import re

import pytest

from monitor.errors import TopicsError
from monitor.store.records import ArticleRecord
from monitor.store.schema import matching_topics
from monitor.topics import Topic, bundled_topics_path, fts_query_error, load_topics, parse_topics

BUNDLED = load_topics()
BY_NAME = {t.name: t for t in BUNDLED}


def matches(topic_name: str, text: str, title: str = "") -> bool:
    return topic_name in matching_topics([BY_NAME[topic_name]], title, text)


# --------------------------------------------------------------------------- loading

def test_bundled_topics_load_and_cover_the_required_themes():
    assert bundled_topics_path().name == "topics.toml"
    assert {"kz-us", "rights", "energy", "security", "trade"} <= set(BY_NAME)
    for t in BUNDLED:
        assert isinstance(t, Topic) and t.description and t.query
        assert fts_query_error(t.query) is None
    with pytest.raises(Exception):
        BUNDLED[0].name = "x"  # frozen


def test_bundled_queries_never_use_a_bare_us():
    """'US' tokenises as the English pronoun 'us': only inside quoted phrases."""
    for t in BUNDLED:
        unquoted = re.sub(r'"[^"]*"', " ", t.query)
        assert not re.search(r"(?<![\w*])us(?![\w*])", unquoted, re.IGNORECASE), t.name


def test_topics_path_precedence(tmp_path, monkeypatch):
    env_file = tmp_path / "env.toml"
    env_file.write_text('[[topic]]\nname = "from-env"\nquery = "astana"\n', encoding="utf-8")
    arg_file = tmp_path / "arg.toml"
    arg_file.write_text('[[topic]]\nname = "from-arg"\ndescription = "x"\nquery = "almaty"\n', encoding="utf-8")
    monkeypatch.setenv("MONITOR_TOPICS", str(env_file))
    assert [t.name for t in load_topics()] == ["from-env"]
    assert [t.name for t in load_topics(arg_file)] == ["from-arg"]
    monkeypatch.delenv("MONITOR_TOPICS")
    assert [t.name for t in load_topics()] == [t.name for t in BUNDLED]


def test_bad_query_names_file_topic_query_and_sqlite_message(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[topic]]\nname = "ok"\nquery = "astana"\n\n'
                   '[[topic]]\nname = "broken"\nquery = \'(kazakhstan* OR astana\'\n', encoding="utf-8")
    with pytest.raises(TopicsError) as exc:
        load_topics(bad)
    msg = str(exc.value)
    assert str(bad) in msg and "'broken'" in msg and "(kazakhstan* OR astana" in msg
    assert "fts5: syntax error" in msg
    assert exc.value.exit_code == 2


@pytest.mark.parametrize("query, sqlite_says", [
    ("kz-us", "no such column: us"),
    ("U.S.", 'syntax error near "."'),
    ('"united states', "unterminated string"),
    ("astana AND", "syntax error"),
])
def test_fts_query_error_reports_sqlite(query, sqlite_says):
    assert sqlite_says in fts_query_error(query)


@pytest.mark.parametrize("text, message", [
    ('[[topic]]\nname = "a"\n', "'query' is missing"),
    ('[[topic]]\nname = "A B"\nquery = "x"\n', "may only contain"),
    ('[[topic]]\nname = "a"\nquery = "x"\ncolour = "red"\n', "unknown key 'colour'"),
    ('[[topic]]\nname = "a"\nquery = "x"\n[[topic]]\nname = "a"\nquery = "y"\n', "duplicate name"),
    ('[[topic]]\nname = "a"\nquery = 3\n', "must be a string"),
    ('[[topic]]\nname = "a"\nquery = "  "\n', "empty query"),
    ('topics = []\n', "unknown top-level key"),
    ("[[topic]\n", "not valid TOML"),
])
def test_invalid_files(text, message):
    with pytest.raises(TopicsError, match=re.escape(message)):
        parse_topics(text, path="t.toml")


def test_missing_file_is_a_topics_error(tmp_path):
    with pytest.raises(TopicsError, match="file not found"):
        load_topics(tmp_path / "nope.toml")


# --------------------------------------------------------------------------- bundled queries, per language

POSITIVE = [
    # kz-us
    ("kz-us", "en", "Kazakh President Kassym-Jomart Tokayev received the U.S. Secretary of State in Astana on Tuesday."),
    ("kz-us", "en", "Kazakhstan and the United States signed a memorandum on critical minerals."),
    ("kz-us", "en", "The C5+1 summit brought Central Asian leaders to Washington."
                    " Kazakhstan's delegation was the largest."),
    ("kz-us", "en", "US-Kazakhstan relations entered a new phase, officials said."),
    ("kz-us", "ru", "Президент Казахстана провёл телефонный разговор с госсекретарём США."),
    ("kz-us", "ru", "Соединёнными Штатами и Казахстаном подписано соглашение о сотрудничестве."),
    ("kz-us", "ru", "В Астане прошли консультации с американской делегацией."),
    ("kz-us", "kk", "Қазақстан мен АҚШ арасындағы стратегиялық әріптестік туралы келіссөздер өтті."),
    ("kz-us", "kk", "ҚАЗАҚСТАННЫҢ сыртқы істер министрі Америка Құрама Штаттарына сапармен барды."),
    ("kz-us", "kk-latn", "Qazaqstan men AQSh arasyndağy ekijaqty qarym-qatynas talqylandy."),
    ("kz-us", "kk-latn", "Qazaqstan Prezidenti Amerika Qurama Ştattarynyñ delegasiasyn qabyldady."),
    ("kz-us", "pl", "Prezydent Kazachstanu spotkał się z sekretarzem stanu Stanów Zjednoczonych."),
    ("kz-us", "pl", "Kazachstan i USA podpisały umowę o współpracy gospodarczej."),
    ("kz-us", "pl", "Amerykańska delegacja odwiedziła Astanę w ubiegłym tygodniu."),
    ("kz-us", "de", "Kasachstans Präsident empfing den US-Außenminister in Astana."),
    ("kz-us", "de", "Die Vereinigten Staaten und Kasachstan vereinbarten eine engere Zusammenarbeit."),
    ("kz-us", "fr", "Le président kazakh Tokaïev a reçu le secrétaire d'État américain."),
    ("kz-us", "fr", "Les États-Unis et le Kazakhstan renforcent leur partenariat stratégique."),
    # rights
    ("rights", "en", "Human rights groups urged Kazakhstan to release political prisoners."),
    ("rights", "en", "Tokayev announced a constitutional reform and a referendum on parliament's powers."),
    ("rights", "ru", "Правозащитники призвали власти Казахстана освободить политзаключённых."),
    ("rights", "ru", "В Алматы прошёл митинг за свободу слова."),
    ("rights", "kk", "Қазақстандағы адам құқықтары туралы баяндама жарияланды."),
    ("rights", "kk", "Қазақстанда парламент сайлауы өтті, оппозиция наразылық білдірді."),
    ("rights", "kk-latn", "Qazaqstanda adam quqyqtary boiynsha jaña zañ qabyldandy."),
    ("rights", "pl", "Organizacje broniące praw człowieka krytykują władze Kazachstanu."),
    ("rights", "pl", "W Kazachstanie odbyły się wybory parlamentarne, opozycja mówi o fałszerstwach."),
    ("rights", "de", "Menschenrechtler werfen Kasachstan Folter von Demonstranten vor."),
    ("rights", "fr", "Les défenseurs des droits de l'homme dénoncent la censure au Kazakhstan."),
    # energy
    ("energy", "en", "Kazakhstan's oil output from Tengiz rose as Chevron expanded the field."),
    ("energy", "en", "Astana wants Western investors in its rare earths and lithium deposits."),
    ("energy", "ru", "Добыча нефти в Казахстане выросла на три процента."),
    ("energy", "ru", "Казатомпром сохранил прогноз добычи урана."),
    ("energy", "ru", "Казахстан планирует построить первую АЭС у озера Балхаш."),
    ("energy", "kk", "Қазақстанда мұнай өндіру көлемі артты."),
    ("energy", "kk", "Қазақстандағы сирек жер металдары кен орындары зерттеледі."),
    ("energy", "kk-latn", "Qazaqstanda munai öndıru kölemı östı."),
    ("energy", "pl", "Kazachstan zwiększył wydobycie ropy naftowej i eksport gazu."),
    ("energy", "pl", "Kazachstan chce przyciągnąć inwestorów do surowców krytycznych."),
    ("energy", "de", "Kasachstan liefert mehr Erdöl nach Deutschland; seltene Erden im Fokus."),
    ("energy", "fr", "Le Kazakhstan, premier producteur mondial d'uranium, vise les terres rares."),
    # security
    ("security", "en", "Kazakhstan hosted a counter-terrorism exercise with CSTO forces."),
    ("security", "en", "Astana rejected claims about US-funded biological laboratories."),
    ("security", "ru", "Министерство обороны Казахстана провело учения."),
    ("security", "ru", "КНБ Казахстана задержал сторонников экстремистской группы."),
    ("security", "kk", "Қазақстанның Қорғаныс министрлігі әскери оқу-жаттығу өткізді."),
    ("security", "kk", "Қазақстан ұлттық қауіпсіздік комитеті мәлімдеме жасады."),
    ("security", "kk-latn", "Qazaqstannyñ ulttyq qauıpsızdık komitetı habarlady."),
    ("security", "pl", "Kazachstan wzmacnia bezpieczeństwo na granicy z Afganistanem."),
    ("security", "de", "Kasachstan will seine Streitkräfte modernisieren und die Sicherheit stärken."),
    ("security", "fr", "Le Kazakhstan renforce sa sécurité et la lutte contre le terrorisme."),
    # trade
    ("trade", "en", "Trade between Kazakhstan and the US reached a record, with new investment in the Middle Corridor."),
    ("trade", "en", "Congress debated repealing the Jackson-Vanik amendment for Kazakhstan."),
    ("trade", "ru", "Товарооборот Казахстана и США вырос на 20 процентов."),
    ("trade", "ru", "Казахстан привлёк иностранные инвестиции в обрабатывающую промышленность."),
    ("trade", "kk", "Қазақстан мен АҚШ арасындағы сауда айналымы өсті."),
    ("trade", "kk", "Қазақстанға тікелей шетелдік инвестициялар көлемі артты."),
    ("trade", "kk-latn", "Qazaqstan men AQSh arasyndağy sauda kölemı östı."),
    ("trade", "pl", "Handel między Kazachstanem a Polską rośnie, rosną też inwestycje."),
    ("trade", "pl", "Kazachstan zwiększył eksport zboża do Chin."),
    ("trade", "de", "Der Handel mit Kasachstan wächst; deutsche Investitionen steigen."),
    ("trade", "fr", "Le commerce entre la France et le Kazakhstan progresse, les investissements aussi."),
]


@pytest.mark.parametrize("topic, lang, sentence", POSITIVE, ids=[f"{t}-{l}-{i}" for i, (t, l, _) in enumerate(POSITIVE)])
def test_bundled_topic_matches_realistic_sentence(topic, lang, sentence):
    assert matches(topic, sentence), f"{topic} should match [{lang}] {sentence!r}"


NEGATIVE = [
    # the pronoun "us" is not the United States
    ("kz-us", "Kazakhstan's foreign minister told us that the talks with Beijing went well."),
    ("kz-us", "Officials in Astana let us visit the new museum."),
    # a theme without the Kazakhstan anchor
    ("energy", "Oil prices rose in New York as OPEC cut production."),
    ("security", "The Pentagon announced new military aid for allies in Europe."),
    ("trade", "Казахская кухня славится бешбармаком."),  # anchor but no trade word
    # 'газета' (newspaper) is not gas; 'за границей' is not a border story
    ("energy", "Казахстанская газета опубликовала интервью с писателем."),
    ("energy", "Kazachstańska gazeta opublikowała wywiad z pisarzem."),
    # Kazakh теңіз is "sea", not the Tengiz field
    ("energy", "Каспий теңізінің деңгейі төмендеді, балықшылар алаңдаулы."),
    # rights: unrelated Kazakhstan news
    ("rights", "Kazakhstan's football team won the qualifier in Almaty."),
]


@pytest.mark.parametrize("topic, sentence", NEGATIVE)
def test_bundled_topic_does_not_match(topic, sentence):
    assert not matches(topic, sentence), f"{topic} should not match {sentence!r}"


def test_case_and_diacritics_folding_cyrillic_and_latin():
    topic = Topic("t", "", "казахстан* AND қазақстан* AND stanów AND zjednoczon* AND états")
    text = "КАЗАХСТАН ҚАЗАҚСТАН STANOW ZJEDNOCZONYCH Etats"
    assert matching_topics([topic], "", text) == ["t"]
    upper = "ПРЕЗИДЕНТ КАЗАХСТАНА ВСТРЕТИЛСЯ С ГОССЕКРЕТАРЁМ США"
    assert matches("kz-us", upper)


# --------------------------------------------------------------------------- tagging in storage

def _rec(url, text, title="News", source="wire", **kw):
    return ArticleRecord(url=url, source=source, title=title, text=text, **kw)


def _tags(storage, article_id):
    return sorted(r[0] for r in storage.db.execute("SELECT topic FROM article_topics WHERE article_id = ?",
                                                   [article_id]))


def test_write_batch_tags_new_articles(fresh_db):
    fresh_db.set_topics(BUNDLED)
    res = fresh_db.write_batch([
        _rec("https://a.example/1", "Президент Казахстана обсудил с делегацией США поставки урана и инвестиции."),
        _rec("https://a.example/2", "Prezydent Kazachstanu rozmawiał z sekretarzem stanu Stanów Zjednoczonych."),
        _rec("https://a.example/3", "A recipe for apple pie with cinnamon and a pinch of salt. " * 5),
    ])
    assert _tags(fresh_db, res[0].article_id) == ["energy", "kz-us", "trade"]
    assert _tags(fresh_db, res[1].article_id) == ["kz-us"]
    assert _tags(fresh_db, res[2].article_id) == []
    recorded = dict(fresh_db.db.execute("SELECT name, query FROM topics"))
    assert recorded["kz-us"] == BY_NAME["kz-us"].query


def test_menu_only_mention_is_not_tagged(fresh_db):
    """Tagging reads the stored (extracted) title and text only: the word 'Kazakhstan' in a page's menu,
    description or URL, which extraction left out of the text, does not tag the article."""
    fresh_db.set_topics(BUNDLED)
    res = fresh_db.write_batch([_rec(
        "https://a.example/world/kazakhstan-usa/some-story",
        "The mayor of Springfield opened a new bridge across the river on Monday, officials from the "
        "United States Department of Transportation attended.",
        title="New bridge opens in Springfield", description="Kazakhstan and USA news menu")])
    assert _tags(fresh_db, res[0].article_id) == []
    # the same text with Kazakhstan in its body is tagged
    res = fresh_db.write_batch([_rec("https://a.example/2", "Kazakhstan's ambassador and officials from the "
                                     "United States Department of Transportation attended.")])
    assert _tags(fresh_db, res[0].article_id) == ["kz-us"]


def test_known_url_is_not_retagged_and_no_topics_means_no_tags(fresh_db):
    res = fresh_db.write_batch([_rec("https://a.example/1", "Kazakhstan and the United States met.")])
    assert _tags(fresh_db, res[0].article_id) == []          # no topics set
    fresh_db.set_topics(BUNDLED)
    again = fresh_db.write_batch([_rec("https://a.example/1", "Kazakhstan and the United States met.")])
    assert again[0].status == "known" and _tags(fresh_db, res[0].article_id) == []


def test_retag_after_topic_change(fresh_db):
    v1 = parse_topics('[[topic]]\nname = "grain"\nquery = "wheat"\n\n[[topic]]\nname = "old"\nquery = "astana"\n')
    fresh_db.set_topics(v1)
    res = fresh_db.write_batch([
        _rec("https://a.example/1", "Kazakhstan exports wheat and barley to China."),
        _rec("https://a.example/2", "Kazakhstan exports oil through the CPC pipeline."),
        _rec("https://a.example/3", "Astana hosted the forum."),
    ])
    ids = [r.article_id for r in res]
    assert [_tags(fresh_db, i) for i in ids] == [["grain"], [], ["old"]]

    v2 = parse_topics('[[topic]]\nname = "grain"\ndescription = "grain and oil"\nquery = "wheat OR oil"\n')
    assert fresh_db.set_topics(v2) == ["grain"]               # changed query reported
    counts = fresh_db.retag(v2)
    assert counts == {"grain": 2}
    assert [_tags(fresh_db, i) for i in ids] == [["grain"], ["grain"], []]   # 'old' tags removed
    rows = fresh_db.db.execute("SELECT name, description, query, retagged_at FROM topics").fetchall()
    assert len(rows) == 1 and rows[0][:3] == ("grain", "grain and oil", "wheat OR oil") and rows[0][3]
    assert fresh_db.tagged_topics() == {"grain": 2}


def test_retag_is_one_pass_over_the_fts_index(fresh_db):
    """Many articles in, one retag: counts agree with per-article matching."""
    texts = ["Kazakhstan and the United States discussed uranium.", "Казахстан и США обсудили торговлю.",
             "Weather in Paris is mild.", "Kazachstan i USA rozmawiały o bezpieczeństwie."]
    fresh_db.write_batch([_rec(f"https://a.example/{i}", texts[i % 4]) for i in range(400)])
    counts = fresh_db.retag(BUNDLED)
    expected = {t.name: 100 * sum(t.name in matching_topics([t], "News", x) for x in texts) for t in BUNDLED}
    assert counts == expected
