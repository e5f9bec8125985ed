"""The network boundary (issue 15, docs/security.md): the address classifier (odd spellings included), the
source's own scheme+host+port set, the sources file's validation and NetGuardMiddleware with a test resolver.
The crawl-level behaviour is in tests/e2e/test_network_boundary.py."""

from __future__ import annotations

import ipaddress

import pytest
import pytest_twisted
from scrapy.http import Request
from scrapy.utils.test import get_crawler
from twisted.internet.error import DNSLookupError

from monitor.crawl.addresses import blocked_reason, check_addresses, own_addresses, parse_host_address
from monitor.crawl.discovery import on_site, port_allowed
from monitor.crawl.netguard import BlockedAddress, NetGuardMiddleware
from monitor.crawl.spider import NewsSpider
from monitor.errors import SourcesError
from monitor.sources.catalogue import Source, parse_sources

ip = ipaddress.ip_address


@pytest.mark.parametrize("host, address, reason", [
    ("127.0.0.1", "127.0.0.1", "loopback"),
    ("2130706433", "127.0.0.1", "loopback"),          # decimal
    ("0177.0.0.1", "127.0.0.1", "loopback"),          # octal
    ("0x7f.0.0.1", "127.0.0.1", "loopback"),          # hex
    ("127.1", "127.0.0.1", "loopback"),               # short form
    ("127.0.0.2", "127.0.0.2", "loopback"),
    ("[::1]", "::1", "loopback"),
    ("::ffff:127.0.0.1", "127.0.0.1", "loopback"),    # IPv4-mapped IPv6
    ("[::ffff:7f00:1]", "127.0.0.1", "loopback"),
    ("2002:7f00:1::", "2002:7f00:1::", "loopback"),   # 6to4 around 127.0.0.1
    ("169.254.169.254", "169.254.169.254", "cloud metadata"),
    ("2852039166", "169.254.169.254", "cloud metadata"),
    ("::ffff:169.254.169.254", "169.254.169.254", "cloud metadata"),
    ("fd00:ec2::254", "fd00:ec2::254", "cloud metadata"),
    ("169.254.1.1", "169.254.1.1", "link-local"),
    ("fe80::1%eth0", "fe80::1", "link-local"),
    ("10.0.0.1", "10.0.0.1", "private"),
    ("012.0.0.1", "10.0.0.1", "private"),            # octal 012 = 10
    ("172.16.5.4", "172.16.5.4", "private"),
    ("192.168.1.1", "192.168.1.1", "private"),
    ("fd12::1", "fd12::1", "private"),
    ("224.0.0.1", "224.0.0.1", "multicast"),
    ("ff02::1", "ff02::1", "multicast"),
    ("0.0.0.0", "0.0.0.0", "unspecified"),
    ("0", "0.0.0.0", "unspecified"),
    ("[::]", "::", "unspecified"),
    ("100.64.0.1", "100.64.0.1", "not public"),       # carrier-grade NAT
    ("93.184.215.14", "93.184.215.14", None),
    ("1572394766", "93.184.215.14", None),             # a decimal public address is just public
    ("[2606:4700:4700::1111]", "2606:4700:4700::1111", None),
])
def test_address_classifier(host, address, reason):
    parsed = parse_host_address(host)
    assert parsed == ip(address)
    assert blocked_reason(parsed) == reason


@pytest.mark.parametrize("host", ["example.com", "localhost", "1.2.3.4.5", "0x7g.0.0.1", "", None, "deadbeef"])
def test_host_names_are_not_addresses(host):
    assert parse_host_address(host) is None


def test_check_addresses_allows_only_the_sources_own_internal_addresses():
    own = frozenset({ip("127.0.0.1")})
    assert check_addresses("127.0.0.1", [ip("127.0.0.1")], own) is None
    assert check_addresses("inside.test", [ip("127.0.0.2")], own) == "inside.test (127.0.0.2) is a loopback address"
    assert check_addresses("2130706434", [ip("127.0.0.2")], own) == "2130706434 (127.0.0.2) is a loopback address"
    assert check_addresses("news.example", [ip("93.184.215.14")]) is None
    # a metadata address is refused even when it is the source's own
    assert "cloud metadata" in check_addresses("169.254.169.254", [ip("169.254.169.254")],
                                               frozenset({ip("169.254.169.254")}))


def test_own_addresses_of_a_source():
    src = Source(name="s", url="http://127.0.0.1:18080/", feeds=("http://feeds.example/f.xml",))
    fake = {"127.0.0.1": [ip("127.0.0.1")], "feeds.example": [ip("93.184.215.14")]}
    assert own_addresses(src, resolve=lambda h: fake[h]) == frozenset({ip("127.0.0.1")})


def test_site_is_scheme_host_and_port():
    src = Source(name="s", url="http://127.0.0.1:18080/", sitemaps=("http://127.0.0.1:18080/sitemap.xml",))
    domains, origins = src.domains, src.origins
    assert origins == frozenset({("127.0.0.1", 18080)})
    assert on_site("http://127.0.0.1:18080/a/", domains, origins)
    assert not on_site("http://127.0.0.1:18081/secret/", domains, origins)   # another port of the same host
    assert not on_site("http://127.0.0.1/secret/", domains, origins)          # ... its default port too
    assert not on_site("ftp://127.0.0.1:18080/", domains, origins)
    assert not on_site("http://127.0.0.1:99999/", domains, origins)           # a bad port
    assert on_site("http://127.0.0.1:18081/", domains)                        # without origins: hosts only
    site = Source(name="e", url="https://example.com/", allowed_domains=("cdn.example.net",))
    d, o = site.domains, site.origins
    assert on_site("http://example.com/a", d, o) and on_site("https://example.com:443/a", d, o)
    assert on_site("https://news.example.com/a", d, o)
    assert not on_site("https://example.com:8443/a", d, o) and not on_site("http://news.example.com:81/", d, o)
    assert on_site("https://cdn.example.net:8443/a", d, o)   # an extra allowed domain: ports not judged
    assert not port_allowed("https://example.com:6379/", o) and port_allowed("https://elsewhere.org:81/", o)


def test_sources_file_refuses_metadata_addresses_and_accepts_loopback():
    def load(url):
        return parse_sources(f'[[source]]\nname = "s"\nurl = "{url}"\n', path="sources.toml")

    for url in ("http://169.254.169.254/latest/", "http://[fd00:ec2::254]/", "http://2852039166/",
                "http://[::ffff:a9fe:a9fe]/"):
        with pytest.raises(SourcesError) as err:
            load(url)
        assert "cloud metadata address" in str(err.value) and "\n" not in str(err.value)
    assert load("http://127.0.0.1:18080/")[0].origins == frozenset({("127.0.0.1", 18080)})
    with pytest.raises(SourcesError, match="metadata"):
        parse_sources('[[source]]\nname = "s"\nurl = "http://example.com/"\n'
                      'feeds = ["http://169.254.169.254/feed"]\n')


# --------------------------------------------------------------------------- the middleware

class FakeResolverGuard(NetGuardMiddleware):
    """The test resolver hook: host names resolve through a map (what DNS would answer)."""

    hosts = {"inside.test": ["127.0.0.2"], "news.example": ["93.184.215.14"], "meta.test": ["169.254.169.254"],
             "intranet.test": ["10.1.2.3"]}

    async def resolve(self, host):
        literal = parse_host_address(host)
        if literal is not None:
            return [literal]
        if host not in self.hosts:
            raise DNSLookupError(host)
        return [ip(a) for a in self.hosts[host]]


def _guard(url="http://127.0.0.1:18080/", **settings):
    src = Source(name="outlet", url=url)
    spidercls = NewsSpider.for_source(src)
    crawler = get_crawler(spidercls, settings_dict={"MONITOR_ALLOW_PRIVATE_ADDRESSES": False, **settings})
    crawler.spider = spidercls.from_crawler(crawler)
    return FakeResolverGuard(crawler)


def _drive(coro):
    """Run a coroutine that awaits nothing real (the fake resolver answers at once)."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    raise AssertionError("the coroutine waited for something")


def _refused(mw, url, **meta) -> str | None:
    try:
        _drive(mw.process_request(Request(url, meta=meta)))
    except BlockedAddress as exc:
        return str(exc)
    return None


def test_middleware_refuses_dns_names_pointing_inside():
    mw = _guard()
    assert _refused(mw, "http://127.0.0.1:18080/a/") is None                 # the source's own address
    assert "inside.test (127.0.0.2) is a loopback address" in _refused(mw, "http://inside.test/")
    assert "cloud metadata" in _refused(mw, "http://meta.test/latest/")
    assert "private" in _refused(mw, "http://intranet.test/")
    assert _refused(mw, "http://news.example/a/") is None
    with pytest.raises(DNSLookupError):   # unresolvable: dns_error (not passed on to be resolved again unchecked)
        _refused(mw, "http://unknown.test/")
    for odd in ("http://2130706434/", "http://0177.0.0.2/", "http://[::ffff:127.0.0.2]/", "http://0x7f.2/"):
        assert "127.0.0.2" in _refused(mw, odd), odd
    assert mw.stats.get_value("monitor/blocked_address") >= 7


def test_middleware_redirect_hops():
    mw = _guard()
    chain = {"redirect_urls": ["http://127.0.0.1:18080/a/moved/"]}
    assert "port" in _refused(mw, "http://127.0.0.1:6379/", **chain)         # another port of the same host
    assert "loopback" in _refused(mw, "http://127.0.0.2:18080/feed.xml", **chain)
    assert "private" in _refused(mw, "http://10.0.0.1/", **chain)
    assert _refused(mw, "http://127.0.0.1:18080/a/new/", **chain) is None
    assert _refused(mw, "http://news.example/a/", **chain) is None


def test_setting_lifts_the_rule_but_never_for_metadata():
    mw = _guard(url="https://news.example/", MONITOR_ALLOW_PRIVATE_ADDRESSES=True)
    assert _refused(mw, "http://inside.test/") is None
    assert _refused(mw, "http://10.0.0.1/") is None
    assert "cloud metadata" in _refused(mw, "http://169.254.169.254/latest/")
    strict = _guard(url="https://news.example/")
    assert "loopback" in _refused(strict, "http://127.0.0.1:18080/")          # a public source reaches no loopback


@pytest_twisted.ensureDeferred
async def test_resolve_reads_scrapys_dns_cache():
    """The real resolve() asks the reactor's resolver; with Scrapy's caching resolver installed (as in a crawl)
    a name in Scrapy's DNS cache (the address the connection will use) is what is checked."""
    from twisted.internet import reactor

    from scrapy.resolver import CachingThreadedResolver, dnscache

    previous = reactor.resolver
    CachingThreadedResolver(reactor, 100, 5.0).install_on_reactor()
    dnscache["cached-inside.test"] = "127.0.0.2"
    try:
        src = Source(name="outlet", url="http://127.0.0.1:18080/")
        spidercls = NewsSpider.for_source(src)
        crawler = get_crawler(spidercls, settings_dict={"MONITOR_ALLOW_PRIVATE_ADDRESSES": False})
        crawler.spider = spidercls.from_crawler(crawler)
        mw = NetGuardMiddleware(crawler)
        assert await mw.resolve("cached-inside.test") == [ip("127.0.0.2")]
        with pytest.raises(BlockedAddress, match="loopback"):
            await mw.process_request(Request("http://cached-inside.test/"))
        with pytest.raises(DNSLookupError):
            await mw.resolve("nosuch.invalid")
    finally:
        dnscache.pop("cached-inside.test", None)
        reactor.installResolver(previous)


def test_distributed_workers_keep_the_boundary():
    """A worker (the Redis add-on switched on) keeps monitor.settings' downloader middlewares: the boundary runs in
    the process that downloads, on requests read back from Redis too (their meta keeps the redirect chain)."""
    pytest.importorskip("scrapy_redis")
    from scrapy.settings import Settings

    from monitor.distributed.workers import RedisAddon

    settings = Settings()
    settings.setmodule("monitor.settings", priority="project")
    settings.set("MONITOR_REDIS_URL", "redis://127.0.0.1:1/0", priority="cmdline")
    RedisAddon().update_settings(settings)
    assert settings.get("SCHEDULER") == "monitor.distributed.workers.RedisScheduler"
    assert settings.getdict("DOWNLOADER_MIDDLEWARES")["monitor.crawl.netguard.NetGuardMiddleware"] == 50
