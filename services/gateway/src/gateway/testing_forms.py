"""Submitting a page's forms exactly as they are offered (test helper).

The gateway's forms and the services' models must not drift apart: a form that lacks a field the
service requires (or offers a choice the service refuses) fails for every person who uses it.
These helpers read the forms of a rendered page the way a browser does (`forms`), fill them as a
person could — only with what the form offers: the options of its selects, radios and checkboxes,
values within its `minlength`/`maxlength`/`min`/`max`/`type` — (`fill`) and submit them (`submit`).

Two ways to fill: `minimal` fills only what the form marks as required (`required` on a field,
`data-required` on a fieldset of checkboxes: at least one), which is what a hurried person sends;
the full way fills every field. `values` overrides what is typed into named fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode

import httpx
from nrn_kit.localtime import program_today

TEXT_TYPES = {"text", "search", "email", "url", "tel", "password", "date", "number", "datetime-local", "month",
              "time", "week", "color", "range"}


@dataclass
class Field:
    name: str
    tag: str                       # input | select | textarea
    type: str = "text"             # the input's type (select/textarea: the tag)
    value: str = ""                # the value a browser would send untouched
    checked: bool = False
    required: bool = False
    group_required: bool = False   # a checkbox in a fieldset marked data-required (at least one)
    options: list[str] = field(default_factory=list)
    attrs: dict[str, str] = field(default_factory=dict)
    label: str = ""


@dataclass
class Button:
    name: str | None
    value: str
    formaction: str | None
    text: str = ""


@dataclass
class Form:
    action: str
    method: str
    fields: list[Field] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)

    def field_names(self) -> set[str]:
        return {f.name for f in self.fields}

    def button(self, text: str) -> Button:
        for b in self.buttons:
            if text.lower() in b.text.lower():
                return b
        raise KeyError(f"no button {text!r} in the form to {self.action} (has {[b.text for b in self.buttons]})")


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: Field | None = None
        self._option: dict[str, Any] | None = None
        self._textarea: Field | None = None
        self._button: Button | None = None
        self._fieldset_required: list[bool] = []
        self._labels: dict[str, str] = {}
        self._label_for: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = Form(action=a.get("action", ""), method=a.get("method", "get").lower())
            self.forms.append(self._form)
        elif tag == "fieldset":
            self._fieldset_required.append("data-required" in a)
        elif tag == "label":
            self._label_for = a.get("for")
        if self._form is None or "disabled" in a:
            return
        grouped = bool(self._fieldset_required and self._fieldset_required[-1])
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("submit", "image"):
                self._form.buttons.append(Button(a.get("name"), a.get("value", ""), a.get("formaction"),
                                                 a.get("value", "")))
            elif kind not in ("button", "reset", "file") and a.get("name"):
                self._form.fields.append(Field(a["name"], "input", kind, a.get("value", "on" if kind in (
                    "checkbox", "radio") else ""), "checked" in a, "required" in a, grouped and kind == "checkbox",
                    attrs=a))
        elif tag == "select" and a.get("name"):
            self._select = Field(a["name"], "select", "select", required="required" in a, attrs=a)
            self._form.fields.append(self._select)
        elif tag == "option" and self._select is not None:
            self._option = {"value": a.get("value"), "selected": "selected" in a, "text": ""}
        elif tag == "textarea" and a.get("name"):
            self._textarea = Field(a["name"], "textarea", "textarea", required="required" in a, attrs=a)
            self._form.fields.append(self._textarea)
        elif tag == "button" and a.get("type", "submit").lower() == "submit":
            self._button = Button(a.get("name"), a.get("value", ""), a.get("formaction"))
            self._form.buttons.append(self._button)

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value += data
        if self._option is not None:
            self._option["text"] += data
        if self._button is not None:
            self._button.text += data
        if self._label_for:
            self._labels[self._label_for] = self._labels.get(self._label_for, "") + data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "fieldset" and self._fieldset_required:
            self._fieldset_required.pop()
        elif tag == "label":
            self._label_for = None
        elif tag == "textarea" and self._textarea is not None:
            # a browser drops the one newline right after <textarea>
            self._textarea.value = self._textarea.value.removeprefix("\n")
            self._textarea = None
        elif tag == "option" and self._option is not None and self._select is not None:
            value = self._option["value"] if self._option["value"] is not None else self._option["text"].strip()
            self._select.options.append(value)
            if self._option["selected"] or (not self._select.value and len(self._select.options) == 1):
                self._select.value = value
            self._option = None
        elif tag == "select":
            self._select = None
        elif tag == "button":
            if self._button is not None:
                self._button.text = " ".join(self._button.text.split())
            self._button = None


def forms(html: str) -> list[Form]:
    """Every form of a page, with its fields as a browser would submit them untouched."""
    p = _Parser()
    p.feed(html)
    for f in p.forms:
        for fld in f.fields:
            fld.label = " ".join(p._labels.get(fld.attrs.get("id", ""), "").split())
    return p.forms


def form_to(html: str, action: str) -> Form:
    """The form of the page that posts to `action` (its first)."""
    found = [f for f in forms(html) if f.action == action]
    if not found:
        raise AssertionError(f"no form to {action!r} on the page: {[f.action for f in forms(html)]}")
    return found[0]


def plausible(f: Field, *, today: date | None = None) -> str:
    """A value a person could type into the field, within what the field says it takes."""
    a = f.attrs
    kind = f.type
    if kind == "url":
        return "https://example.org/resource"
    if kind == "email":
        return "person@example.org"
    if kind == "date":
        return ((today or program_today()) + timedelta(days=30)).isoformat()
    if kind == "datetime-local":  # a browser offers only a date and a time here
        return f"{((today or program_today()) + timedelta(days=30)).isoformat()}T10:00"
    if kind == "time":
        return "10:00"
    if kind == "month":
        return ((today or program_today()) + timedelta(days=30)).isoformat()[:7]
    if a.get("pattern") and a.get("placeholder"):
        return a["placeholder"]  # a field with a pattern shows an example of it
    if kind == "number":
        low = int(float(a["min"])) if a.get("min") else 0
        high = int(float(a["max"])) if a.get("max") else low + 100
        return str(min(max(low, 1000), high))
    words = f"Example {f.label or f.name.replace('_', ' ')} typed as offered"
    if kind == "textarea":
        words = f"{words}. A second sentence, so that it reads like what a person writes."
    low = int(a.get("minlength") or 0)
    high = int(a.get("maxlength") or 10_000)
    while len(words) < low:
        words += " more"
    return words[:high]


def fill(form: Form, *, minimal: bool = False, values: dict[str, str | list[str]] | None = None,
         button: str | None = None) -> tuple[str, list[tuple[str, str]]]:
    """(where the browser posts, the urlencoded pairs it sends) for this form filled as offered."""
    values = values or {}
    data: list[tuple[str, str]] = []
    groups: dict[str, list[Field]] = {}
    for f in form.fields:
        if f.tag == "input" and f.type in ("checkbox", "radio"):
            groups.setdefault(f.name, []).append(f)
            continue
        if f.name in values:
            v = values[f.name]
            data += [(f.name, x) for x in v] if isinstance(v, list) else [(f.name, v)]
            continue
        if f.tag == "select":
            chosen = f.value or (f.options[0] if f.options else "")
            if not chosen and (f.required or not minimal):
                chosen = next((o for o in f.options if o), "")
            data.append((f.name, chosen))
        elif f.type == "hidden" or (f.value and (minimal or f.type not in TEXT_TYPES | {"textarea"})):
            data.append((f.name, f.value))
        elif f.required or not minimal:
            data.append((f.name, f.value or plausible(f)))
        else:
            data.append((f.name, f.value))
    for name, boxes in groups.items():
        if name in values:
            v = values[name]
            for x in (v if isinstance(v, list) else [v]):
                assert any(b.value == x for b in boxes), f"{name}={x!r} is not offered by the form"
                data.append((name, x))
            continue
        checked = [b for b in boxes if b.checked]
        if boxes[0].type == "radio":
            if not checked and (any(b.required for b in boxes) or not minimal):
                checked = boxes[:1]
            data += [(name, b.value) for b in checked[:1]]
            continue
        if not checked and (any(b.group_required or b.required for b in boxes) or (not minimal and len(boxes) > 1)):
            checked = boxes[:1]
        elif not checked and not minimal and len(boxes) == 1 and name not in ("delete",):
            checked = boxes  # a lone option box (e.g. "Applications accepted at any time"), ticked
        data += [(name, b.value) for b in checked]
    action = form.action
    if button is not None:
        b = form.button(button)
        if b.name:
            data.append((b.name, b.value))
        action = b.formaction or action
    return action, data


async def submit(client: httpx.AsyncClient, form: Form, *, minimal: bool = False,
                 values: dict[str, str | list[str]] | None = None, button: str | None = None) -> httpx.Response:
    """Fill the form as offered and send it the way a browser does (no redirects followed)."""
    action, data = fill(form, minimal=minimal, values=values, button=button)
    if form.method == "get":
        return await client.get(action, params=data)
    # repeated names (checkbox groups) in order, urlencoded as a browser sends them
    return await client.post(action, content=urlencode(data).encode(), follow_redirects=False,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})


def refusal(response: httpx.Response) -> str:
    """The error a page shows (for an assertion's message): its notices and field errors as text."""
    import re

    found = re.findall(r'class="(?:notice error|field-error)"[^>]*>(.*?)</', response.text, flags=re.S)
    return f"{response.status_code}: " + " | ".join(" ".join(x.split()) for x in found)


async def signed_in(base_url: str, email: str, password: str) -> httpx.AsyncClient:
    """A browser-like client signed in through the sign-in page's own form."""
    client = httpx.AsyncClient(base_url=base_url, timeout=30.0)
    page = await client.get("/signin")
    r = await submit(client, form_to(page.text, "/signin"), values={"username": email, "password": password})
    assert r.status_code == 303, refusal(r)
    return client


async def accepted(client: httpx.AsyncClient, response: httpx.Response, what: str) -> str:
    """The form's answer was "done": a redirect to a page that says so. Returns where it went."""
    assert response.status_code == 303, f"{what}: the service refused the form as offered — {refusal(response)}"
    target = response.headers["location"]
    page = await client.get(target)
    assert page.status_code == 200 and 'class="notice success"' in page.text, f"{what}: {refusal(page)}"
    return target


def post_forms(html: str) -> list[Form]:
    """The page's forms that change something (not sign-out)."""
    return [f for f in forms(html) if f.method == "post" and f.action not in ("/signout",)]
