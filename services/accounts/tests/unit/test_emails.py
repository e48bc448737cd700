"""One e-mail address, one identity: the canonical form."""

import pytest

from accounts.domain.emails import InvalidEmail, canonical_domain, canonical_email, throttle_key


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("e\u0301@example.org", "\u00e9@example.org"),  # decomposed é
        ("\u00e9@example.org", "\u00e9@example.org"),  # precomposed é
        ("E\u0301@EXAMPLE.ORG", "\u00e9@example.org"),  # upper case, decomposed
        ("  Jane.Doe@Example.org ", "jane.doe@example.org"),
        ("\uff4a\uff4f@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.org", "jo@example.org"),  # fullwidth letters
        ("\uff4a\uff4f\uff20example.org", "jo@example.org"),  # fullwidth at-sign from an input method
        ("jo@xn--bcher-kva.example", "jo@b\u00fccher.example"),  # IDNA: punycode
        ("jo@B\u00dcCHER.example", "jo@b\u00fccher.example"),  # IDNA: Unicode, upper case
        ("jo@bu\u0308cher.example", "jo@b\u00fccher.example"),  # IDNA: decomposed
        ("STRASSE@example.org", "strasse@example.org"),
        ("Stra\u00dfe@example.org", "strasse@example.org"),  # full case folding: ß is ss
    ],
)
def test_every_spelling_of_an_address_has_one_canonical_form(typed: str, canonical: str) -> None:
    assert canonical_email(typed) == canonical
    assert canonical_email(canonical) == canonical  # idempotent: stored forms stay as they are
    assert throttle_key(typed) == canonical


@pytest.mark.parametrize("typed", ["", "   ", "not an address", "jo@", "@example.org", "jo@localhost", "a b@example.org"])
def test_what_is_not_an_address_is_refused_but_still_has_a_throttle_key(typed: str) -> None:
    with pytest.raises(InvalidEmail):
        canonical_email(typed)
    assert throttle_key(typed) == throttle_key(typed.upper())


def test_domains_compare_in_the_same_form() -> None:
    assert canonical_domain("@CityOfFlint.com") == "cityofflint.com"
    assert canonical_domain("xn--bcher-kva.example") == canonical_domain("BÜCHER.example") == "bücher.example"
    with pytest.raises(InvalidEmail):
        canonical_domain("not a domain")
