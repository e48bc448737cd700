"""Redaction of names, emails and phone numbers of individuals, with realistic memo text."""

import pytest

from library.domain.redaction import EMAIL, NAME, PHONE, Redactor


@pytest.fixture(scope="module")
def r() -> Redactor:
    return Redactor(known_people=["Pat Quinlan", "Dana Whitfield-Oyelaran"])


EMAILS = [
    "jane.doe@flintmi.gov",
    "j_smith+budget@detroitmi.gov",
    "ANNA.LOPEZ@City-Of-Gary.org",
    "mike@youngstownohio.gov",
    "finance.director@cityofcamden.nj.us",
    "o'brien@example.com".replace("'", ""),
]


@pytest.mark.parametrize("email", EMAILS)
def test_emails_are_redacted(r, email):
    out = r.redact(f"Questions go to {email}, thanks.")
    assert email not in out.text and EMAIL in out.text
    assert out.found["email"] == 1


@pytest.mark.parametrize("text", [
    "write to j.smith [at] detroitmi [dot] gov for the file",
    "write to j.smith (at) detroitmi (dot) gov for the file",
    "write to j.smith [at] detroitmi.gov for the file",
])
def test_obfuscated_emails_are_redacted(r, text):
    out = r.redact(text)
    assert "detroitmi" not in out.text and out.text.endswith("for the file")


PHONES = [
    "(810) 555-0142",
    "810-555-0142",
    "810.555.0142",
    "810 555 0142",
    "+1 810 555 0142",
    "1-800-555-0199",
    "+1 (313) 555-0100",
    "810-555-0142 ext. 12",
    "(330) 555-0175 x204",
    "+44 20 7946 0958",
]


@pytest.mark.parametrize("phone", PHONES)
def test_phone_numbers_are_redacted(r, phone):
    out = r.redact(f"Call the office at {phone} before Friday.")
    assert out.text == f"Call the office at {PHONE} before Friday.", out.text


@pytest.mark.parametrize("text", [
    "call 8105550142 tomorrow",
    "Phone: 555-0142",
    "tel. 3135550100",
])
def test_bare_numbers_next_to_a_phone_word_are_redacted(r, text):
    out = r.redact(text)
    assert PHONE in out.text and not any(ch.isdigit() for ch in out.text), out.text


@pytest.mark.parametrize("text", [
    "The budget grew from $1,250,000 to $2,400,000 between 2019-2020 and 2022-2023.",
    "FIPS place code 2629000 covers Flint; census tract 26049002800 is nearby.",
    "Section 108 loans of up to 5 times the CDBG allocation; see 24 CFR 570.700.",
    "Meeting on 2026-01-15 at 10:30; agenda items 3.1 through 3.12.",
    "Population fell 18.2 % from 124,943 (2000) to 102,434 (2010).",
    "Parcel numbers 41-18-276-004 and 41-18-276-005 were transferred.",
])
def test_numbers_that_are_not_phones_are_kept(r, text):
    assert r.redact(text).text == text


NAMED = [
    ("Please contact Jane Doe about the land bank.", "Jane Doe"),
    ("Mayor Karen Weaver asked whether the city could use a land bank.", "Karen Weaver"),
    ("Councilmember Maria Garcia-Lopez raised the question.", "Maria Garcia-Lopez"),
    ("The memo was drafted by Dr. Okonkwo for the finance team.", "Okonkwo"),
    ("Deputy City Manager Tom O'Neil's memo set out three options.", "Tom O'Neil"),
    ("Answer prepared by Sarah Johnson, PhD.", "Sarah Johnson"),
    ("Robert J. Thompson Jr. chairs the steering group.", "Robert J. Thompson Jr."),
    ("Ms. Nguyen confirmed the figures.", "Nguyen"),
    ("Finance Director Michael McDonald shared the audit.", "Michael McDonald"),
    ("We spoke with Pat Quinlan last week.", "Pat Quinlan"),
    ("Dana Whitfield-Oyelaran will present.", "Dana Whitfield-Oyelaran"),
    ("Jane Park attended the session.", "Jane Park"),
    ("Treasurer Linda Brown approved the transfer.", "Linda Brown"),
    ("Our analyst, Emily Carter, reviewed the rates.", "Emily Carter"),
    ("Prof. Amara Chukwu of the university advised.", "Amara Chukwu"),
]


@pytest.mark.parametrize("text,name", NAMED)
def test_names_of_individuals_are_redacted(r, text, name):
    out = r.redact(text)
    assert name not in out.text, out.text
    assert NAME in out.text
    assert out.found["name"] >= 1


def test_surname_alone_after_full_name_is_redacted(r):
    out = r.redact("Mayor Karen Weaver asked about land banks. Weaver said the county already has one.")
    assert "Weaver" not in out.text
    assert out.text.count(NAME) == 2


def test_possessive_and_full_stop_stay_outside_the_redaction(r):
    assert r.redact("This is Jane Doe's plan.").text == f"This is {NAME}'s plan."
    assert r.redact("The plan came from Jane Doe.").text == f"The plan came from {NAME}."


KEPT = [
    "Flint, Detroit and Youngstown have land banks; Gary, Indiana is considering one.",
    "Cities like Carol Stream, Jackson, Charlotte and Madison have done this.",
    "The Annie E. Casey Foundation and the Robert Wood Johnson Foundation fund this work.",
    "See Martin Luther King Jr. Boulevard and the Lincoln Park district.",
    "The Genesee County Land Bank Authority and the Kresge Foundation partnered.",
    "HUD, EDA and the Department of Transportation offer technical assistance.",
    "Options: issue a Request for Proposals or apply for a Community Development Block Grant.",
    "Grand Rapids, Fort Wayne and St. Louis used the same approach.",
    "The Brookings Institution and the Urban Institute published reports in May.",
    "Next steps: the City Council votes in June.",
    "Mayor of Flint and the City Manager met the Board of Commissioners.",
]


@pytest.mark.parametrize("text", KEPT)
def test_places_and_organisations_are_kept(r, text):
    out = r.redact(text)
    assert out.text == text, out.text
    assert not out.found


def test_anonymous_consent_hides_the_city(r):
    out = r.redact("Flint's finance team asked how Flint can fund a land bank.", hide=["Flint"])
    assert "Flint" not in out.text and out.text.count("[city]") == 2


def test_whole_memo(r):
    memo = (
        "## Question\nMayor Sheldon Neeley asked how Flint can pay for lead service line replacement.\n\n"
        "## Short answer\nCombine state revolving fund loans with CDBG. Contact Jane Doe "
        "(jane.doe@cityofflint.com, 810-555-0142) in the finance department.\n\n"
        "## Examples\nNewark, New Jersey replaced 23,000 lines in three years; the Natural Resources Defense "
        "Council documented it.\n"
    )
    out = r.redact(memo)
    for secret in ("Sheldon Neeley", "Jane Doe", "jane.doe@cityofflint.com", "810-555-0142"):
        assert secret not in out.text
    for kept in ("Flint", "Newark, New Jersey", "Natural Resources Defense Council", "CDBG", "23,000"):
        assert kept in out.text
    assert out.found == {"name": 2, "email": 1, "phone": 1}


def test_empty_text(r):
    assert r.redact("").text == ""
