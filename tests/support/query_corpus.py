"""A small multilingual database for the query tests, built through the store's writer + ArticleRecord.

Dates are relative to the real clock (the CLI's relative dates use it), except one old article.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from monitor.store.articles import Writer
from monitor.store.records import ArticleRecord, FetchError
from monitor.topics import load_topics

EN_DEAL = ("Kazakhstan and the United States signed a memorandum on critical minerals in Astana on Tuesday.\n"
           "The agreement covers tungsten, lithium and rare earth deposits and opens the sector to American "
           "investors, officials said after the talks with the US delegation.\n"
           "Deputy prime minister said the first joint projects could start next year.")
RU_DEAL = ("КАЗАХСТАН и США подписали меморандум о критических минералах в Астане во вторник.\n"
           "Соглашение охватывает вольфрам, литий и редкоземельные месторождения и открывает отрасль для "
           "американских инвесторов, сообщили официальные лица после переговоров.")
KK_TRADE = ("Қазақстан мен АҚШ арасындағы сауда айналымы биыл айтарлықтай өсті.\n"
            "Қазақстанның сауда және интеграция министрлігі екі елдің инвестициялық ынтымақтастығы "
            "кеңейіп жатқанын хабарлады.")
PL_VISIT = ("Prezydent Kazachstanu spotkał się w Waszyngtonie z sekretarzem stanu Stanów Zjednoczonych.\n"
            "Rozmowy dotyczyły bezpieczeństwa energetycznego i współpracy gospodarczej obu krajów.")
EN_WEATHER = ("Paris will see mild weather this weekend with light rain on Sunday.\n"
              "Forecasters expect temperatures around twelve degrees in the afternoon.")
EN_OLD = ("Kazakhstan's uranium producer Kazatomprom kept its production guidance unchanged.\n"
          "The company said supply of sulphuric acid remained the main constraint for the year.")


def iso(dt: datetime) -> str:
    return dt.replace(microsecond=0).isoformat()


def build(storage: Writer, now: datetime | None = None) -> dict[str, int]:
    """Store the corpus with the bundled topics; returns name -> article id."""
    now = now or datetime.now(timezone.utc)
    storage.set_topics(load_topics())
    crawl = storage.start_crawl(["astanatimes", "wire", "tengrinews", "egemen", "pap", "silentnews"])
    storage.crawl_id = crawl
    recs = [
        ("deal_en", ArticleRecord(url="https://astanatimes.example/deal", source="astanatimes", language="en",
                                  title="Kazakhstan, US sign critical minerals deal", text=EN_DEAL,
                                  published=iso(now - timedelta(hours=2)))),
        ("deal_copy", ArticleRecord(url="https://wire.example/kz-minerals", source="wire", language="en",
                                    title="Kazakhstan, US sign critical minerals deal", text=EN_DEAL,
                                    published=iso(now - timedelta(hours=1)))),
        ("deal_ru", ArticleRecord(url="https://tengrinews.example/ru/deal", source="tengrinews", language="ru",
                                  title="Казахстан и США подписали меморандум о критических минералах", text=RU_DEAL,
                                  published=iso(now - timedelta(hours=2)),
                                  extra={"hreflang": [("en", "https://astanatimes.example/deal")]})),
        ("trade_kk", ArticleRecord(url="https://egemen.example/sauda", source="egemen", language="kk",
                                   title="Қазақстан мен АҚШ саудасы өсті", text=KK_TRADE,
                                   published=iso(now - timedelta(hours=3)))),
        ("visit_pl", ArticleRecord(url="https://pap.example/kazachstan", source="pap", language="pl",
                                   title="Prezydent Kazachstanu w Waszyngtonie", text=PL_VISIT,
                                   published=iso(now - timedelta(hours=30)))),
        ("weather", ArticleRecord(url="https://wire.example/weather", source="wire", language="en",
                                  title="Mild weekend in Paris", text=EN_WEATHER,
                                  published=iso(now - timedelta(days=5)))),
        ("old", ArticleRecord(url="https://astanatimes.example/2024/uranium", source="astanatimes", language="en",
                              title="Kazatomprom keeps guidance", text=EN_OLD, published="2024-05-01T09:30:00+05:00")),
    ]
    ids = {}
    for name, rec in recs:                  # one batch per article: the story link needs its edition stored
        ids[name] = storage.write_batch([rec])[0].article_id
    storage.record_errors([FetchError(url="https://pap.example/broken", source="pap", reason="http_error",
                                      http_status=500)])
    storage.finish_crawl(crawl, "finished", {"articles_new": len(ids)})
    return ids


def add_bulk(storage: Writer, n: int, *, source: str = "bulk", seed: int = 7) -> list[int]:
    """n distinct articles (random word salad, so no two are near duplicates) mentioning Kazakhstan."""
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(5000)]
    recs = [ArticleRecord(url=f"https://{source}.example/{i}", source=source, language="en", title=f"Bulk item {i}",
                          text="Kazakhstan " + " ".join(rng.choice(vocab) for _ in range(120)))
            for i in range(n)]
    return [r.article_id for r in storage.write_batch(recs)]
