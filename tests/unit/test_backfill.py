"""Archive backfill, the pure parts: reading WARC files (good, corrupt, not WARC), keeping records, months, and
the store's backfill API (origins and checkpoints in one transaction, coverage by month)."""

from __future__ import annotations

import gzip
import os

import pytest

from monitor.backfill.plan import months_between, parse_month
from monitor.backfill.select import HostFilter, classify
from monitor.backfill.warcfile import NotWarcError, WarcEntry, check_warc, find_next_record, read_records
from monitor.errors import UsageError
from monitor.sources.catalogue import Source
from tests.support.warcs import Rec, record_bytes, write_warc

DALA = Source(name="dala", url="https://www.dala.example/", allowed_domains=("dalanews.kz",))


def _read(path, start=0, keep=lambda u: True):
    errors, counter = [], [0]
    entries = list(read_records(str(path), start, keep, on_error=lambda o, d: errors.append((o, d)), counter=counter))
    return entries, errors, counter[0]


def _records(n=4, version="1.1"):
    return [Rec("response", f"https://www.dala.example/2024/03/0{i + 1}/story-{i}", f"<p>body {i}</p>".encode(),
                version=version, date=f"2024-03-0{i + 1}T10:00:00Z") for i in range(n)]


@pytest.mark.parametrize("compress", [True, False], ids=["gzip-per-record", "plain"])
@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_records_with_offsets_dates_and_bodies(tmp_path, compress, version):
    recs = [Rec("warcinfo"), Rec("request", "https://www.dala.example/x"), *_records(3, version),
            Rec("revisit", "https://www.dala.example/2024/03/01/story-0", version=version)]
    offsets = write_warc(tmp_path / "a.warc", recs, compress=compress)
    entries, errors, read = _read(tmp_path / "a.warc")
    assert errors == [] and read == 4   # responses and revisits are counted, warcinfo and request are not
    assert [e.offset for e in entries] == offsets[2:]
    assert [e.record_type for e in entries] == ["response"] * 3 + ["revisit"]
    assert entries[0].body == b"<p>body 0</p>" and entries[0].status == 200
    assert entries[0].content_type == "text/html; charset=utf-8"
    assert entries[1].date == "2024-03-02T10:00:00+00:00"
    assert entries[3].body is None


def test_reading_from_a_checkpoint_and_filtering(tmp_path):
    recs = _records(4) + [Rec("response", "https://other.example/2024/03/01/x", b"<p>o</p>")]
    offsets = write_warc(tmp_path / "a.warc.gz", recs)
    entries, _, read = _read(tmp_path / "a.warc.gz", offsets[2], keep=lambda u: "dala" in u)
    assert [e.offset for e in entries] == offsets[2:4] and read == 3


@pytest.mark.parametrize("broken", [1, 3], ids=["middle", "last"])
def test_a_truncated_record_is_reported_once_and_skipped(tmp_path, broken):
    recs = _records(4)
    recs[broken].cut = True
    offsets = write_warc(tmp_path / "a.warc.gz", recs)
    entries, errors, _ = _read(tmp_path / "a.warc.gz")
    assert [e.offset for e in entries] == [o for i, o in enumerate(offsets) if i != broken]
    assert len(errors) == 1 and errors[0][0] == offsets[broken], errors
    # dropped, the record is not inflated (so its damage may go unnoticed): the others are read all the same
    entries, errors, _ = _read(tmp_path / "a.warc.gz", keep=lambda u: not u.endswith(f"story-{broken}"))
    assert [e.offset for e in entries] == [o for i, o in enumerate(offsets) if i != broken]
    assert len(errors) <= 1


def test_garbage_between_records_is_reported_and_reading_goes_on(tmp_path):
    recs = [gzip.compress(record_bytes(r)) for r in _records(3)]
    data = recs[0] + b"\x00garbage\x1f\x8b\x08 not gzip" * 50 + recs[1] + recs[2]
    (tmp_path / "g.warc.gz").write_bytes(data)
    entries, errors, _ = _read(tmp_path / "g.warc.gz")
    assert [e.url[-7:] for e in entries] == ["story-0", "story-1", "story-2"]
    assert len(errors) == 1


def test_find_next_record_needs_a_real_record_start(tmp_path):
    recs = [gzip.compress(record_bytes(r)) for r in _records(2)]
    data = b"\x1f\x8b\x08garbage" + recs[0] + recs[1]
    (tmp_path / "f.warc.gz").write_bytes(data)
    assert find_next_record(str(tmp_path / "f.warc.gz"), 0) == 10
    assert find_next_record(str(tmp_path / "f.warc.gz"), 11) == 10 + len(recs[0])
    assert find_next_record(str(tmp_path / "f.warc.gz"), len(data) - 5) is None


def test_a_file_that_is_not_a_warc_is_refused(tmp_path):
    (tmp_path / "page.html").write_text("<html>hello</html>")
    (tmp_path / "empty.warc").write_bytes(b"")
    (tmp_path / "other.gz").write_bytes(gzip.compress(b"just text"))
    for name in ("page.html", "empty.warc", "other.gz"):
        with pytest.raises(NotWarcError) as info:
            check_warc(str(tmp_path / name))
        assert name in str(info.value) and "\n" not in str(info.value)
    write_warc(tmp_path / "ok.warc", _records(1), compress=False)
    check_warc(str(tmp_path / "ok.warc"))
    with pytest.raises(UsageError, match="no such file"):
        check_warc(str(tmp_path / "missing.warc"))


def test_host_filter_keeps_the_sources_sites():
    f = HostFilter([DALA])
    assert f.source_for("https://www.dala.example/2024/x") == "dala"
    assert f.source_for("http://dala.example/x") == "dala"            # www. and scheme do not matter
    assert f.source_for("https://en.dalanews.kz/x") == "dala"   # allowed_domains (registered domain)
    assert f.source_for("https://other.example/x") is None
    assert f.source_for("not a url") is None
    every = HostFilter([DALA], all_hosts=True)
    assert every.source_for("https://www.other.example/a") == "other.example"
    assert every.source_for("https://dala.example/a") == "dala"


def _entry(**kw):
    base = dict(offset=0, next_offset=0, url="https://www.dala.example/a", record_type="response", date=None,
                status=200, content_type="text/html", location=None, body=b"x")
    return WarcEntry(**{**base, **kw})


def test_classify():
    assert classify(_entry()) == "page"
    assert classify(_entry(content_type=None)) == "page"
    assert classify(_entry(content_type="application/xhtml+xml; charset=utf-8")) == "page"
    assert classify(_entry(content_type="image/png")) == "not_html"
    assert classify(_entry(record_type="revisit", body=None)) == "revisit"
    assert classify(_entry(status=301, location="/b")) == "redirect"
    assert classify(_entry(status=404)) == "http_404"
    assert classify(_entry(truncated=True)) == "truncated"


def test_months():
    assert months_between("2023-11", "2024-02") == ["2023-11", "2023-12", "2024-01", "2024-02"]
    assert parse_month("2024-05", "--cc-news") == (2024, 5)
    for bad in ("2024-13", "2024-5", "May 2024", ""):
        with pytest.raises(UsageError, match="YYYY-MM"):
            parse_month(bad, "--from")
    with pytest.raises(UsageError, match="before"):
        months_between("2024-03", "2024-01")


def test_batch_origin_and_checkpoint_in_one_transaction(tmp_path):
    from monitor.store.archive import checkpoint, coverage_by_month, start_backfill, write_with_checkpoint
    from monitor.store.db import open_writer
    from monitor.store.records import ArticleRecord

    def rec(i, when):
        return ArticleRecord(url=f"https://www.dala.example/{i}", source="dala", text=f"text number {i} " * 40,
                             content_hash=f"h{i}", fetched_at=when)

    with open_writer(tmp_path / "t.db") as w:
        crawl = start_backfill(w, ["dala"])
        assert w.crawl_row(crawl)["kind"] == "backfill"
        assert checkpoint(w, "f.warc") == (0, False)
        res = write_with_checkpoint(w, [rec(1, "2024-01-03T00:00:00+00:00"), rec(2, "2024-02-03T00:00:00+00:00")],
                                    [], ["f.warc@0", "f.warc@100"], "f.warc", 200)
        assert [r.status for r in res] == ["new", "new"] and checkpoint(w, "f.warc") == (200, False)
        again = write_with_checkpoint(w, [rec(1, "2024-01-09T00:00:00+00:00")], [], ["g.warc@5"], "f.warc", 300,
                                      done=True)
        assert again[0].status == "known" and checkpoint(w, "f.warc") == (300, True)
        origins = dict(w.db.execute("SELECT url, origin FROM articles").fetchall())
        assert origins == {"https://www.dala.example/1": "f.warc@0", "https://www.dala.example/2": "f.warc@100"}
        with pytest.raises(RuntimeError):   # a failed batch leaves neither rows nor the checkpoint behind
            with w.transaction():
                write_with_checkpoint(w, [rec(3, "2024-03-01T00:00:00+00:00")], [], ["h@1"], "h.warc", 50)
                raise RuntimeError("killed")
        assert checkpoint(w, "h.warc") == (0, False) and w.count() == 2
        write_with_checkpoint(w, [rec(4, "2024-04-10T00:00:00+00:00")], [], ["h@2"], "h.warc", 60)
        assert coverage_by_month(w.db.conn) == {"months": ["2024-01", "2024-02", "2024-03", "2024-04"],
                                                "per_source": [{"source": "dala", "articles": [1, 1, 0, 1]}]}
        assert coverage_by_month(w.db.conn, months=2)["months"] == ["2024-03", "2024-04"]
        # a normal crawl's row keeps kind 'crawl'
        assert w.crawl_row(w.start_crawl(["dala"]))["kind"] == "crawl"


def test_big_records_across_read_chunks_kept_and_dropped(tmp_path):
    big = os.urandom(1_500_000)   # incompressible: the member spans two 1 MiB reads
    recs = [Rec("request", "https://www.dala.example/a"), Rec("response", "https://www.dala.example/big", big,
                                                               content_type="application/octet-stream"),
            *_records(2)]
    offsets = write_warc(tmp_path / "b.warc.gz", recs)
    kept, errors, read = _read(tmp_path / "b.warc.gz")
    assert errors == [] and read == 3 and kept[0].body == big and [e.offset for e in kept] == offsets[1:]
    dropped, errors, read = _read(tmp_path / "b.warc.gz", keep=lambda u: not u.endswith("/big"))
    assert errors == [] and read == 3 and [e.offset for e in dropped] == offsets[2:]
    assert kept[0].next_offset == offsets[2]


def test_the_network_guard_of_archive_servers():
    from monitor.backfill.net import FetchFailed, Guard

    with pytest.raises(FetchFailed, match="loopback address.*MONITOR_ALLOW_PRIVATE_ADDRESSES"):
        Guard(False).check("http://127.0.0.1:8080/cdx")
    with pytest.raises(FetchFailed, match="private"):
        Guard(False).check("http://10.1.2.3/web")
    Guard(True).check("http://127.0.0.1:8080/cdx")          # -s MONITOR_ALLOW_PRIVATE_ADDRESSES=true
    for allow in (False, True):                               # metadata: always refused
        with pytest.raises(FetchFailed, match="metadata"):
            Guard(allow).check("http://169.254.169.254/latest/")
    with pytest.raises(UsageError, match="not an http"):
        Guard(True).check("file:///etc/passwd")


@pytest.mark.parametrize("args, message", [
    ([], "give WARC files, --wayback SOURCE or --cc-news YYYY-MM"),
    (["--wayback", "dala", "--cc-news", "2024-05"], "(one of them)"),
    (["--wayback", "dala"], "--wayback needs --from YYYY-MM and --to YYYY-MM"),
    (["--wayback", "dala", "--from", "2024-13", "--to", "2024-01"], "--from '2024-13': give a month as YYYY-MM"),
    (["--wayback", "nosuch", "--from", "2024-01", "--to", "2024-02"], "unknown source 'nosuch'"),
    (["--cc-news", "May"], "--cc-news 'May': give a month as YYYY-MM"),
    (["missing.warc.gz"], "missing.warc.gz: no such file"),
])
def test_bad_backfill_input_is_one_line_and_exit_2(tmp_path, args, message):
    from click.testing import CliRunner

    from monitor.cli import cli
    from tests.support.helpers import write_sources

    sources = write_sources(tmp_path / "s.toml", [{"name": "dala", "url": "https://www.dala.example/"}])
    db = tmp_path / "b.db"
    cwd = os.getcwd()
    os.chdir(tmp_path)   # "missing.warc.gz" is looked for here
    try:
        result = CliRunner().invoke(cli, ["backfill", "--db", str(db), "--sources", str(sources), *args])
    finally:
        os.chdir(cwd)
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert message in lines[0]
    assert not db.exists()
