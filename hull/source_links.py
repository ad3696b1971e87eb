"""Where an entry came from, as a link a reader can follow: the public page of a source id, for the databases
whose pages have a public address built from the id. No Django import.

- Materials Project ids (``mp-1960``, ``mvc-12905``), whatever batch brought them in (an MP file, GNoME's
  snapshot of MP): ``https://next-gen.materialsproject.org/materials/<id>``.
- OQMD entry ids (a number, in a batch named ``oqmd``): ``https://oqmd.org/materials/entry/<id>``.

WBM and GNoME ids have no page of their own (the data sets are published as files), nor have entries from a
user's file or a discovery round: those stay plain text."""

import re
from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class SourcePage:
    name: str
    sources: tuple[str, ...]  # batch source names the rule holds for; empty: any source
    pattern: re.Pattern
    url: str


SOURCE_PAGES = (
    SourcePage(
        name="Materials Project",
        sources=(),
        pattern=re.compile(r"(mp|mvc)-\d+"),
        url="https://next-gen.materialsproject.org/materials/{id}",
    ),
    SourcePage(
        name="OQMD",
        sources=("oqmd",),
        pattern=re.compile(r"\d+"),
        url="https://oqmd.org/materials/entry/{id}",
    ),
)


def source_page(*, source: str, source_id: str) -> tuple[str, str] | None:
    """(database name, URL) of the public page of ``source_id``, or None where it has none."""
    for page in SOURCE_PAGES:
        if page.sources and source not in page.sources:
            continue
        if page.pattern.fullmatch(source_id):
            return page.name, page.url.format(id=quote(source_id, safe=""))
    return None
