"""Keep secrets out of everything ncm prints or logs.

Passwords reach ncm inside database URLs and the encryption key; any text that may quote
them (driver errors echo DSNs) goes through :func:`mask` before a user sees it.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

MASK = "***"
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][\w+.-]*://[^:/@\s]*:)(?P<password>[^@\s]*)(?P<tail>@)")


def mask_url(url: str) -> str:
    """The URL with its password replaced by ``***``."""
    return _URL_PASSWORD.sub(lambda m: f"{m['head']}{MASK}{m['tail']}", url)


def url_password(url: str) -> str | None:
    """The password in a URL, decoded, or None."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return None
    return unquote(password) if password else None


def mask(text: str, secrets: list[str | None] | tuple[str | None, ...] = ()) -> str:
    """Text with URL passwords and each known secret (raw and URL-encoded forms) masked."""
    text = mask_url(text)
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, MASK)
    return text
