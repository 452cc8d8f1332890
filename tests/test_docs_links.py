"""Every relative link and picture in README.md and docs/ points at a file in the repository."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

REPO = Path(__file__).resolve().parent.parent
PAGES = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")  # [text](target "title")
HTML_SOURCE = re.compile(r"<(?:img|a)\s[^>]*(?:src|href)=\"([^\"]+)\"")


def relative_targets(page: Path) -> list[str]:
    """The links of a Markdown page that point into the repository (no URLs, no bare anchors)."""
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)  # code blocks
    targets = LINK.findall(text) + HTML_SOURCE.findall(text)
    return [t for t in targets if not re.match(r"[a-z][a-z0-9+.-]*:", t) and not t.startswith("#")]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_and_picture_exists(page):
    missing = []
    for target in relative_targets(page):
        path = (page.parent / unquote(target.split("#")[0])).resolve()
        if not path.exists():
            missing.append(target)
    assert not missing, f"{page.relative_to(REPO)} links to files that are not there: {missing}"


def test_the_link_finder_sees_pictures_links_and_html(tmp_path):
    page = tmp_path / "page.md"
    page.write_text('![a](results/x.png) [b](../README.md#start) [c](https://example.org) '
                    '<img src="y.gif"> [d](#here)\n```\n![not](inside_code.png)\n```\n')
    assert relative_targets(page) == ["results/x.png", "../README.md#start", "y.gif"]
