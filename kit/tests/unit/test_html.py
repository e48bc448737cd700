"""nrn_kit.html: the one Markdown renderer and HTML sanitiser. The renderers of every service are
checked against the same corpus in tests/unit/test_safe_rendering.py; this file covers what the
kit decides on its own: images, the allow-list on raw HTML, table alignment."""

from __future__ import annotations

import pytest

from nrn_kit.html import render_markdown, sanitize_html

# Raw HTML that reaches the sanitiser directly (any service that renders HTML some other way
# passes it through sanitize_html): every line must lose its active part.
RAW_HTML = [
    '<a href="javascript:alert(1)">x</a>',
    '<a href="javascript&#58;alert(1)">x</a>',
    '<a href="&#x6A;avascript:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="&#0000106;avascript:alert(1)">x</a>',
    '<a href="java&#9;script:alert(1)">x</a>',
    '<a href="java&#x0A;script:alert(1)">x</a>',
    '<a href="java\tscript:alert(1)">x</a>',
    '<a href=" \x01javascript:alert(1)">x</a>',
    '<a href="JAVASCRIPT:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="file:///etc/passwd">x</a>',
    '<img src="/etc/hostname" alt="c">',
    '<img src="https://example.org/a.png" onerror="alert(1)">',
    '<svg onload="alert(1)"><a xlink:href="javascript:alert(1)">x</a></svg>',
    '<iframe src="https://example.org" srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="https://example.org/x.swf"></object><embed src="x.swf">',
    '<p onclick="alert(1)" style="background:url(javascript:alert(1))">x</p>',
    '<details open ontoggle="alert(1)"><summary>x</summary></details>',
    '<form action="javascript:alert(1)"><button formaction="javascript:alert(1)">x</button></form>',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
    '<base href="https://evil.example/"><link rel="stylesheet" href="https://evil.example/x.css">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<script>alert(1)</script><style>body{background:url(https://evil.example)}</style>',
    '<!-- <img src=x onerror=alert(1)> -->',
]


@pytest.mark.parametrize("raw", RAW_HTML)
def test_raw_html_loses_everything_active(raw: str) -> None:
    out = sanitize_html(raw).lower()
    for bad in ("javascript", "vbscript", "data:", "file:", "<img", "<svg", "<iframe", "<object", "<embed", "<form",
                "<script", "<style", "<base", "<link", "<meta", " on", "style=", "srcdoc", "alert(1)</script"):
        assert bad not in out, (raw, out)


def test_safe_links_survive_with_rel() -> None:
    out = sanitize_html('<a href="https://nrn.example/a?b=1&amp;c=2">a</a> <a href="mailto:x@y.example">m</a> '
                        '<a href="/library/r1">r</a> <a href="#top">t</a>')
    assert 'href="https://nrn.example/a?b=1&amp;c=2"' in out and 'href="mailto:x@y.example"' in out
    assert 'href="/library/r1"' in out and 'href="#top"' in out and out.count('rel="noopener noreferrer nofollow"') == 4


@pytest.mark.parametrize(("markdown", "expected"), [
    ("![chart](/etc/hostname)", "<p>chart</p>\n"),
    # markdown-it refuses file: and javascript: targets outright: the Markdown stays as text
    ("![chart](file:///etc/hostname)", "<p>![chart](file:///etc/hostname)</p>\n"),
    ("![chart](data:image/png;base64,iVBORw0KGgo=)", "<p>chart</p>\n"),
    ("![](/etc/hostname)", "<p></p>\n"),
    ("![chart](https://example.org/c.png)",
     '<p><a href="https://example.org/c.png" rel="noopener noreferrer nofollow">chart</a></p>\n'),
    ("![](http://example.org/c.png)",
     '<p><a href="http://example.org/c.png" rel="noopener noreferrer nofollow">image</a></p>\n'),
    ("[![chart](https://example.org/c.png)](https://example.org/report)",
     '<p><a href="https://example.org/report" rel="noopener noreferrer nofollow">chart</a></p>\n'),
    ("![a <b>&amp; \"q\"](https://example.org/c.png)",
     '<p><a href="https://example.org/c.png" rel="noopener noreferrer nofollow">a &lt;b&gt;&amp; "q"</a></p>\n'),
    ("![c][img]\n\n[img]: /etc/hostname", "<p>c</p>\n"),
])
def test_images_are_never_embedded(markdown: str, expected: str) -> None:
    assert render_markdown(markdown) == expected


def test_raw_html_in_markdown_is_text() -> None:
    out = render_markdown('<iframe src="https://example.org"></iframe> and <b onclick="x()">bold</b>')
    assert out == ("<p>&lt;iframe src=\"https://example.org\"&gt;&lt;/iframe&gt; and "
                   "&lt;b onclick=\"x()\"&gt;bold&lt;/b&gt;</p>\n")


def test_tables_keep_their_alignment_as_classes_and_lists_their_start() -> None:
    out = render_markdown("| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |\n\n3. third\n4. fourth")
    assert '<th class="align-left">a</th>' in out and '<td class="align-center">2</td>' in out
    assert '<td class="align-right">3</td>' in out and "style" not in out and '<ol start="3">' in out


def test_empty_text_renders_nothing() -> None:
    assert render_markdown(None) == "" and render_markdown("") == ""


def test_standalone_documents_keep_no_relative_links() -> None:
    text = "[guide](/library/r1) [top](#top) [site](https://nrn.example/x) [mail](mailto:a@b.example)"
    out = render_markdown(text, standalone=True)
    assert 'href="/library/r1"' not in out and 'href="#top"' not in out and ">guide</a>" in out
    assert 'href="https://nrn.example/x"' in out and 'href="mailto:a@b.example"' in out
    assert 'href="/library/r1"' in render_markdown(text)
