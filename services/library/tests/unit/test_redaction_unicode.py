"""Personal data in the public record (issue 17, class 8): every pattern for all of Unicode, in every kind
of text that can become public. Each corpus entry is a secret that must not survive redaction; each is
tried inside a question, the background an official wrote, a memo, a call summary, a close-out report
and convening material."""

from __future__ import annotations

import pytest

from library.domain.redaction import ADDRESS, CITY, EMAIL, NAME, PHONE, STREET, WEBSITE, ZIP, Redactor

KINDS = {
    "question": "Our question: {} — can you help?",
    "context": "Background. {}\nWe tried this last year.",
    "memo": "## Short answer\nYes.\n\n## Options\n{}\n\n## Next steps\nDraft the ordinance.",
    "call summary": "Call notes: {}. Next steps agreed.",
    "close-out report": "The engagement closed. {} The work plan is done.",
    "convening material": "Working group session. {} Slides follow.",
}

NAMES = [
    ("Contact José Núñez, the director.", "José Núñez"),
    ("Ask Jose Nunez about it.", "Jose Nunez"),
    ("María-José Ibáñez leads the team.", "María-José Ibáñez"),
    ("Mayor Sheldon Neeley agreed.", "Sheldon Neeley"),
    ("Dr. Chiamaka Okonkwo reviewed it.", "Okonkwo"),
    ("Ms. Zoë Brontë wrote back.", "Zoë Brontë"),
    ("Councilwoman Renée Lefèvre objected.", "Renée Lefèvre"),
    ("Jose\u0301 Nu\u0301n\u0303ez (decomposed accents) called.", "Nu\u0301n\u0303ez"),
    ("Talk to Nguyễn Văn An in finance.", "Nguyễn Văn An"),          # an account the library knows
    ("Łukasz Żółkiewski signed the letter.", "Żółkiewski"),            # an account the library knows
]
EMAILS = [
    "josé@city.gov", "françois.lefèvre@ville-de-québec.ca", "山田@例え.jp", "jane.doe@flintmi.gov",
    "j\u200bane@city.gov", "ana＠city.gov", "o'brien.k@city.gov", "müller@münchen.de", "user+tag@sub.city.gov",
]
PHONES = [
    "810-555-0142", "810\u2011555\u20110142", "810\u2010555\u20100142", "(810) 555\u20130142", "810\u2014555\u20140142",
    "810.555.0142", "810·555·0142", "810\u00a0555\u00a00142", "810\u202f555\u202f0142", "810\u2009555\u20090142",
    "810 555 0142", "+1 810 555 0142", "+1\u2011810\u2011555\u20110142", "１-810-555-0142", "８１０－５５５－０１４２",
    "（810）555-0142", "810/555-0142", "+44 20 7946 0958", "+33 1 23 45 67 89", "1-800-555-0199 ext. 12",
]
ADDRESSES = [
    "1101 S. Saginaw Street", "400 N 5th Ave, Suite 200", "12 Martin Luther King Jr. Boulevard",
    "2500 West Calle Real Drive", "PO Box 1234", "P.O. Box 77", "900 Court Street, Apt 4B",
]


@pytest.fixture(scope="module")
def r() -> Redactor:
    return Redactor(known_people=["Nguyễn Văn An", "Łukasz Żółkiewski"])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("text", "secret"), NAMES, ids=[s for _, s in NAMES])
def test_names_in_any_script_are_redacted(r: Redactor, kind: str, text: str, secret: str) -> None:
    out = r.redact(KINDS[kind].format(text))
    assert secret not in out.text and NAME in out.text, out.text


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("email", EMAILS)
def test_emails_with_any_local_part_are_redacted(r: Redactor, kind: str, email: str) -> None:
    out = r.redact(KINDS[kind].format(f"Write to {email} today"))
    local = email.split("@")[0].split("＠")[0].replace("\u200b", "")
    assert local not in out.text.replace("\u200b", "") and EMAIL in out.text, out.text


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("phone", PHONES)
def test_phones_with_any_dash_dot_or_space_are_redacted(r: Redactor, kind: str, phone: str) -> None:
    out = r.redact(KINDS[kind].format(f"Call {phone} before Friday"))
    assert PHONE in out.text and "555" not in out.text and "7946" not in out.text and "45 67" not in out.text, \
        out.text


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("address", ADDRESSES)
def test_street_addresses_are_redacted(r: Redactor, kind: str, address: str) -> None:
    out = r.redact(KINDS[kind].format(f"The office is at {address} near the park"))
    assert ADDRESS in out.text and address not in out.text, out.text
    number = address.split()[0] if address[0].isdigit() else address.split()[-1]
    assert number not in out.text, out.text


CITY_LEAKS = [
    ("Flint residents asked; Flint's council agreed.", "Flint"),
    ("See https://www.cityofflint.com/water for the plan.", "cityofflint"),
    ("Data is at flintmi.gov/data and on the city portal.", "flintmi"),
    ("Write to the clerk at clerk@cityofflint.com.", "cityofflint"),
    ("Residents on Saginaw Street complained.", "Saginaw"),
    ("Homes on Dort Highway and Pierson Road flooded.", "Dort"),
    ("The office at 1101 S. Saginaw St., Flint, MI 48502 handles it.", "48502"),
    ("Parcels in ZIP code 48503 were remapped.", "48503"),
    ("Bayamón asked too.", "Bayamón"),
    ("Bayamon asked too.", "Bayamon"),
    ("The portal www.bayamon.pr.gov lists it.", "bayamon"),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("text", "secret"), CITY_LEAKS, ids=[s for _, s in CITY_LEAKS])
def test_what_reveals_the_city_is_hidden_under_anonymous_consent(r: Redactor, kind: str, text: str,
                                                                  secret: str) -> None:
    city = "Bayamón" if "ayam" in text else "Flint"
    out = r.redact(KINDS[kind].format(text), hide=[city], hide_as=CITY,
                   hide_domains=["cityofflint.com", "gmail.com"])
    assert secret.lower() not in out.text.lower(), out.text
    assert {CITY, WEBSITE, STREET, ZIP, ADDRESS, EMAIL} & set(w for w in out.text.replace(",", " ").split()) or \
        any(p in out.text for p in (CITY, WEBSITE, STREET, ZIP, ADDRESS, EMAIL)), out.text


def test_what_is_kept(r: Redactor) -> None:
    text = ("The Community Development Block Grant (CFDA 14.218) and the 2019 budget of $4,500,000 help. "
            "Main Street programs in Michigan work; see www.hud.gov and nrn.org. The Flint River is clean.")
    assert r.redact(text).text == text  # nothing personal, city named (named consent)
    hidden = r.redact(text, hide=["Flint"], hide_domains=["gmail.com"]).text
    assert "www.hud.gov" in hidden and "nrn.org" in hidden and "Main Street" in hidden and "14.218" in hidden
    assert "Michigan" in hidden and "[city] River" in hidden


def test_a_free_mail_domain_never_stands_for_the_city(r: Redactor) -> None:
    out = r.redact("See gmail.com help pages.", hide=["Flint"], hide_domains=["gmail.com"])
    assert out.text == "See gmail.com help pages."


def test_what_was_replaced_is_counted(r: Redactor) -> None:
    out = r.redact("José Núñez, josé@city.gov, 810‑555‑0142, 1101 S. Saginaw Street, Flint.", hide=["Flint"])
    assert out.found == {"name": 1, "email": 1, "phone": 1, "address": 1, "city": 1}
