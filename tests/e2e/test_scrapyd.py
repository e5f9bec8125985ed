"""The project deploys to a real Scrapyd unchanged: egg built by scrapyd-deploy, spider scheduled over HTTP.

A copy of the project (monitor/, spiders/, scrapy.cfg, pyproject.toml, setup.py, README.md) is deployed
from a temporary folder so the build leaves nothing in the working tree.  The deploy target comes from
``~/.scrapy.cfg`` (HOME points at the test's folder): scrapy.cfg's own ``[deploy]`` section is untouched.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import zipfile
from contextlib import contextmanager

import pytest

from tests.support.fixtureserver import FixtureServer, Site
from tests.support.distributed_site import article_path, build_bulk_site, bulk_source
from tests.support.helpers import REPO_ROOT, rows, write_sources
from tests.support.redis_server import free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("scrapyd-deploy") is None, reason="scrapyd-client is not installed"),
]
PROJECT = "media-monitor"
PROJECT_FILES = ("monitor", "spiders", "scrapy.cfg", "pyproject.toml", "setup.py", "README.md")


def _get(base: str, path: str, **params) -> dict:
    url = f"{base}/{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
    with urllib.request.urlopen(url, timeout=30) as resp:
        return json.loads(resp.read())


def _post(base: str, path: str, fields: list[tuple[str, str]]) -> dict:
    data = urllib.parse.urlencode(fields).encode()
    with urllib.request.urlopen(urllib.request.Request(f"{base}/{path}", data=data), timeout=30) as resp:
        return json.loads(resp.read())


@contextmanager
def running_scrapyd(tmp_path, extra_env: dict):
    """A real Scrapyd on a free loopback port; config, eggs, logs and dbs in tmp_path/scrapyd."""
    home = tmp_path / "home"
    home.mkdir()
    root = tmp_path / "scrapyd"
    root.mkdir()
    port = free_port()
    (root / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        f"bind_address = 127.0.0.1\nhttp_port = {port}\n"
        f"eggs_dir = {root / 'eggs'}\nlogs_dir = {root / 'logs'}\ndbs_dir = {root / 'dbs'}\n"
        "items_dir =\npoll_interval = 0.2\nmax_proc = 2\n")
    env = {**os.environ, "HOME": str(home), **{k: str(v) for k, v in extra_env.items()}}
    env.pop("PYTHONPATH", None)
    env.pop("MONITOR_REDIS_URL", None)
    log = open(tmp_path / "scrapyd.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "scrapyd"], cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get(base, "daemonstatus.json")["status"] == "ok":
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"scrapyd did not start:\n{(tmp_path / 'scrapyd.log').read_text()}")
            time.sleep(0.1)
        yield base, home, env, root
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()


def _copy_project(dest):
    dest.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "*.pyc")
    for name in PROJECT_FILES:
        src = REPO_ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=ignore)
        else:
            shutil.copy2(src, dest / name)
    return dest


def test_egg_holds_the_bundled_files_and_reads_them_zipped(tmp_path):
    project = _copy_project(tmp_path / "project")
    egg = tmp_path / "media-monitor.egg"
    env = {**os.environ, "HOME": str(tmp_path)}
    env.pop("PYTHONPATH", None)
    built = subprocess.run(["scrapyd-deploy", "--build-egg", str(egg)], cwd=project, env=env,
                           capture_output=True, text=True, timeout=180)
    assert built.returncode == 0, built.stderr
    with zipfile.ZipFile(egg) as z:
        names = set(z.namelist())
        assert {"monitor/sources.toml", "monitor/topics.toml", "monitor/settings.py",
                "monitor_spiders/__init__.py", "monitor_spiders/timesca.py"} <= names
        assert not any(n.startswith("spiders/") for n in names)   # installed as monitor_spiders only
        assert "settings = monitor.settings" in z.read("EGG-INFO/entry_points.txt").decode()
    # as Scrapyd runs it: the egg first on sys.path, the bundled catalogue and topics read from the zip
    code = ("import sys, json; sys.path.insert(0, sys.argv[1]); import monitor, monitor_spiders.timesca; "
            "from monitor.sources.catalogue import load_sources; from monitor.topics import load_topics; "
            "print(json.dumps([monitor.__file__, monitor_spiders.timesca.__file__, len(load_sources(None)), "
            "len(load_topics(None))]))")
    env.pop("MONITOR_SOURCES", None)
    env.pop("MONITOR_TOPICS", None)
    res = subprocess.run([sys.executable, "-c", code, str(egg)], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    where, spider_where, n_sources, n_topics = json.loads(res.stdout)
    assert where.startswith(str(egg)) and spider_where.startswith(str(egg)) and n_sources > 0 and n_topics > 0


def test_deploy_with_scrapyd_deploy_and_schedule_a_crawl(tmp_path):
    project = _copy_project(tmp_path / "project")
    n = 12
    db = tmp_path / "scrapyd.db"
    with FixtureServer(Site()) as server:
        server.site.update(build_bulk_site(server.url, n))
        sources = write_sources(tmp_path / "sources.toml", [bulk_source(server.url)])
        # Scrapyd checks the spider name against `scrapy list` run without the job's settings: the
        # sources file is given to the Scrapyd service through its environment ($MONITOR_SOURCES)
        with running_scrapyd(tmp_path, {"MONITOR_SOURCES": sources}) as (base, home, env, root):
            (home / ".scrapy.cfg").write_text(f"[deploy:test]\nurl = {base}/\nproject = {PROJECT}\n")
            deployed = subprocess.run(["scrapyd-deploy", "test", "--version", "r1"], cwd=project, env=env,
                                      capture_output=True, text=True, timeout=180)
            assert deployed.returncode == 0, deployed.stdout + deployed.stderr
            assert json.loads(deployed.stdout)["status"] == "ok", deployed.stdout
            assert PROJECT in _get(base, "listprojects.json")["projects"]
            assert "bulk" in _get(base, "listspiders.json", project=PROJECT)["spiders"]

            settings = {"MONITOR_SOURCES": sources, "MONITOR_DB": db, "DOWNLOAD_DELAY": 0,
                        "AUTOTHROTTLE_ENABLED": "false", "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
                        "MONITOR_PROGRESS_INTERVAL": 0}
            job = _post(base, "schedule.json", [("project", PROJECT), ("spider", "bulk"),
                                                *[("setting", f"{k}={v}") for k, v in settings.items()]])
            assert job["status"] == "ok", job
            deadline = time.monotonic() + 180
            while True:
                jobs = _get(base, "listjobs.json", project=PROJECT)
                if any(j["id"] == job["jobid"] for j in jobs["finished"]):
                    break
                assert time.monotonic() < deadline, jobs
                time.sleep(0.3)
            fetched = {r.url_path for r in server.requests}

    logs = list((root / "logs").rglob("*.log"))
    log_text = logs[0].read_text() if logs else ""
    assert "Traceback" not in log_text, log_text[-3000:]
    urls = {r["url"] for r in rows(db, "SELECT url FROM articles")}
    assert urls == {server.url + article_path(i) for i in range(n)}, log_text[-3000:]
    assert {article_path(i) for i in range(n)} <= fetched
    crawl = rows(db, "SELECT status, sources FROM crawls")
    assert len(crawl) == 1 and crawl[0]["status"] == "finished" and json.loads(crawl[0]["sources"]) == ["bulk"]
