"""Helpers for asserting that a page loads its scripts and styles from this server only (users may be offline)."""

import re

ASSET_ATTRIBUTE = re.compile(r"<(?:script|link|img)\b[^>]*?\b(?:src|href)\s*=\s*[\"']([^\"']+)[\"']", re.I)


def asset_urls(html: str) -> list[str]:
    """The URLs a page's script, link and img tags load."""
    return ASSET_ATTRIBUTE.findall(html)


def remote_asset_urls(html: str) -> list[str]:
    """Asset URLs that point at another host (absolute or protocol-relative)."""
    return [url for url in asset_urls(html) if re.match(r"^(?:[a-z][a-z0-9+.-]*:)?//", url, re.I)]
