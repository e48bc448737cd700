"""One e-mail address, one identity: the canonical form of an address.

Every place that stores, compares or keys on an address (sign-up, sign-in and its lockout and
throttle keys, staff and partner members, the bootstrap administrator, reset and confirmation
requests, the city's official-domain rule) goes through :func:`canonical_email`, so an address
typed two ways is one account.

The canonical form, in order:

1. Unicode NFKC over the whole input: compatibility characters an input method produces mean
   their plain letters (fullwidth ``ｊｏ＠example.org`` is ``jo@example.org``), and a decomposed
   ``e`` + U+0301 is the same ``é`` as the precomposed one.
2. ``email-validator`` (no DNS look-up): the syntax, the domain through IDNA 2008 / UTS #46 in its
   Unicode form (``xn--bcher-kva.example`` and ``BÜCHER.example`` are both ``bücher.example``),
   the local part in NFC.
3. Unicode full case folding of the whole address (``Jane.Doe@…`` = ``jane.doe@…``,
   ``STRASSE@…`` = ``straße@…``), then NFC again (folding can decompose).

Mail goes to the canonical form too: case and compatibility forms of a local part are not
different mailboxes at any provider a city uses.
"""

from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email


class InvalidEmail(ValueError):
    """The text is not an e-mail address; the message says why, in words for people."""


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text.casefold())


def canonical_email(raw: str) -> str:
    """The canonical form of an e-mail address (see the module docstring). Raises InvalidEmail."""
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    if not text:
        raise InvalidEmail("enter an email address")
    try:
        parts = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(str(exc)) from None
    return _fold(parts.normalized)


def canonical_domain(raw: str) -> str:
    """A domain name in the same form as the domain of :func:`canonical_email` (Unicode, IDNA
    mapped, case folded), so a city's registered domains compare with people's addresses."""
    return canonical_email("postmaster@" + str(raw).strip().lstrip("@")).rsplit("@", 1)[1]


def email_domain(canonical: str) -> str:
    """The domain of an address already in canonical form."""
    return canonical.rsplit("@", 1)[-1]


def throttle_key(raw: str) -> str:
    """The key that counts sign-in attempts for what someone typed: the canonical address, or for
    text that is no address at all the same folding without the syntax check (it still counts,
    and two spellings of the same junk count together)."""
    try:
        return canonical_email(raw)
    except InvalidEmail:
        return _fold(unicodedata.normalize("NFKC", str(raw)).strip())
