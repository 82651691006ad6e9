"""The store page in Simplified Chinese and English (issue 17), from a real relay process over HTTP:
the browser's Accept-Language decides, the switch on the page overrides it and sticks, and sizes,
counts, dates and plurals follow the page's language."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
import requests

from relay_server.i18n import catalogs, formats
from shared.formatting import human_size
from tests.helpers.relay_process import RelayProcess

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
EN = {"Accept-Language": "en-US,en;q=0.9"}


class _Page(HTMLParser):
    """What a visitor sees of a store page: <html lang>, the switch's links, texts, JSON-LD, the packages table."""

    def __init__(self, html: str):
        super().__init__()
        self.lang = ""
        self.switch: dict[str, str] = {}
        self.text: list[str] = []
        self.json_ld: list[dict] = []
        self.cells: list[str] = []
        self._in: list[str] = []
        self.feed(html)
        self.body = " ".join(" ".join(self.text).split())

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang", "")
        if tag == "a" and "language" in (attrs.get("class") or "").split():
            self.switch[attrs["data-lang"]] = attrs["href"]
        self._in.append("ld" if tag == "script" and attrs.get("type") == "application/ld+json" else tag)

    def handle_endtag(self, tag):
        if self._in:
            self._in.pop()

    def handle_data(self, data):
        if self._in and self._in[-1] == "ld":
            self.json_ld.append(json.loads(data))
        elif self._in and self._in[-1] == "td":
            self.cells.append(data.strip())
        if not (self._in and self._in[-1] in ("ld", "style")):
            self.text.append(data)


@pytest.fixture(scope="module")
def relay(tmp_path_factory):
    with RelayProcess(tmp_path_factory.mktemp("store-i18n")) as running:
        yield running


def _get(relay, path="/", headers=None, session=None) -> tuple[requests.Response, _Page]:
    response = (session or requests).get(relay.url + path, headers=headers or {}, timeout=30)
    assert response.status_code == 200, response.text[:500]
    return response, _Page(response.text)


def test_english_by_default_with_a_switch_to_chinese(relay):
    response, page = _get(relay)
    assert page.lang == "en"
    assert response.headers["Content-Language"] == "en"
    assert "Apps worth having" in page.body and "Free download" in page.body
    apps = len(page.json_ld)
    assert f"{apps} apps, free to send to your phone." in page.body
    assert page.switch == {"zh_CN": "/?lang=zh_CN"}
    assert "免费下载" not in page.body


@pytest.mark.parametrize("accept", ["zh-CN,zh;q=0.9,en;q=0.8", "zh-Hans", "zh", "fr-FR, zh;q=0.5, en;q=0.3"])
def test_a_browser_asking_for_simplified_chinese_gets_it(relay, accept):
    response, page = _get(relay, headers={"Accept-Language": accept})
    assert page.lang == "zh-CN"
    assert response.headers["Content-Language"] == "zh-CN"
    assert {"Accept-Language", "Cookie"} <= {v.strip() for v in response.headers["Vary"].split(",")}
    assert "值得拥有的应用" in page.body and "免费下载" in page.body
    assert "Free download" not in page.body and "Apps worth having" not in page.body
    assert f"共 {len(page.json_ld)} 个应用，都可以免费推送到你的手机。" in page.body
    assert page.switch == {"en": "/?lang=en"}


@pytest.mark.parametrize("accept", ["zh-TW,zh;q=0.5", "de-DE,de;q=0.9", "zh-Hant-HK"])
def test_languages_the_store_does_not_speak_get_english(relay, accept):
    _response, page = _get(relay, headers={"Accept-Language": accept})
    assert page.lang == "en" and "Free download" in page.body


def test_the_switch_sticks_across_pages_until_switched_back(relay):
    with requests.Session() as browser:
        _r, english = _get(relay, headers=EN, session=browser)
        _r, chinese = _get(relay, english.switch["zh_CN"], headers=EN, session=browser)
        assert chinese.lang == "zh-CN" and "免费下载" in chinese.body
        # Another page, no ?lang: the cookie keeps the visitor's choice over the browser's English.
        app_id = chinese.json_ld[0]["identifier"]
        _r, app_page = _get(relay, f"/app/{app_id}", headers=EN, session=browser)
        assert app_page.lang == "zh-CN" and "格式" in app_page.body
        assert app_page.switch == {"en": f"/app/{app_id}?lang=en"}
        _r, back = _get(relay, app_page.switch["en"], headers=ZH, session=browser)
        assert back.lang == "en" and "Format" in back.body
        _r, later = _get(relay, headers=ZH, session=browser)
        assert later.lang == "en"


def test_the_switch_keeps_the_search(relay):
    _r, page = _get(relay, "/?q=vlc", headers=EN)
    assert page.switch == {"zh_CN": "/?q=vlc&lang=zh_CN"}
    _r, chinese = _get(relay, page.switch["zh_CN"])
    assert "“vlc”的搜索结果" in chinese.body


def test_a_plural_in_both_languages(relay):
    _r, one = _get(relay, "/?q=vlc", headers=EN)
    assert len(one.json_ld) == 1
    assert "1 app matches." in one.body
    _r, many = _get(relay, "/?q=org", headers=EN)
    assert len(many.json_ld) > 1
    assert f"{len(many.json_ld)} apps match." in many.body
    _r, zh_one = _get(relay, "/?q=vlc", headers=ZH)
    assert "找到 1 个应用。" in zh_one.body
    _r, none = _get(relay, "/?q=no-such-app-anywhere", headers=ZH)
    assert "没有与“no-such-app-anywhere”匹配的应用。" in none.body


def test_sizes_and_dates_in_both_languages(relay):
    _r, index = _get(relay, headers=EN)
    app = index.json_ld[0]
    sizes = [p["size"] for p in app["appbeam:packages"]]
    _r, english = _get(relay, f"/app/{app['identifier']}", headers=EN)
    _r, chinese = _get(relay, f"/app/{app['identifier']}", headers=ZH)
    # English reads as everywhere else in the product (shared/formatting.py); CLDR's Chinese keeps kB/MB.
    for n in sizes:
        assert human_size(n) in english.cells
        assert human_size(n) in chinese.cells
    assert f"{len(sizes)} package" in english.body and f"{len(sizes)} 个安装包" in chinese.body
    days = [datetime.now(UTC).date() - timedelta(days=d) for d in (0, 1)]
    assert any(f"{d:%b} {d.day}, {d.year}" in english.cells for d in days), english.cells
    assert any(f"{d.year}年{d.month}月{d.day}日" in chinese.cells for d in days), chinese.cells
    # The JSON-LD is for programs: the same in every language.
    assert english.json_ld == chinese.json_ld


def test_small_sizes_and_large_counts_follow_the_language():
    assert formats.size(812, "en") == "812 B"
    assert formats.size(812, "zh_CN") == "812 字节"
    assert formats.size(41_234_567, "zh_CN") == "41.2 MB"
    assert formats.size(412_345_678, "en") == "412 MB"
    assert formats.number(12345, "zh_CN") == "12,345"


def test_catalogs_are_complete_and_extraction_finds_nothing_new(capsys):
    assert catalogs.main(["check"]) == 0, capsys.readouterr().err


def test_the_check_names_an_untranslated_string(tmp_path, monkeypatch):
    import relay_server.i18n as i18n

    copy = tmp_path / "zh_CN" / "LC_MESSAGES"
    copy.mkdir(parents=True)
    po = i18n.po_file("zh_CN").read_text(encoding="utf-8")
    po = po.replace('msgstr "免费下载"', 'msgstr ""')
    assert 'msgstr ""\n\n' in po
    (copy / "store.po").write_text(po, encoding="utf-8")
    (tmp_path / "store.pot").write_bytes(i18n.pot_file().read_bytes())
    monkeypatch.setattr(i18n, "HERE", tmp_path)
    assert re.search(r"'Free download' is untranslated", "\n".join(catalogs.problems("zh_CN")))


def test_the_check_finds_a_string_new_in_the_templates(tmp_path, monkeypatch):
    page = tmp_path / "store_new.html"
    page.write_text('<p>{{ _("Words nobody translated yet") }}</p>\n', encoding="utf-8")
    original = catalogs.sources
    monkeypatch.setattr(catalogs, "sources", lambda: [*original(), (page, "jinja2.ext:babel_extract")])
    found = "\n".join(catalogs.stale("zh_CN"))
    assert "new in the code, not in the catalog: 'Words nobody translated yet'" in found
    assert catalogs.main(["check"]) == 1


def test_each_catalog_is_loaded_once_per_process():
    from relay_server.i18n import translations

    assert translations("zh_CN") is translations("zh_CN")
    assert translations("zh_CN").gettext("Free download") == "免费下载"
