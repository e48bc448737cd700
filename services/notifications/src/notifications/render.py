"""Messages from templates: ``templates/<name>.txt`` (subject, one-line summary, plain text) and
``templates/<name>.html`` (the HTML part, in the pages' colours and type), one Jinja2
environment, HTML autoescaped. A template that fails raises :class:`TemplateFailed` with the
reason; the caller parks the message with it (never drops it)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from .domain.messages import Rendered

TEMPLATES = Path(__file__).resolve().parent / "templates"


class TemplateFailed(Exception):
    """A template could not be rendered (missing, a syntax error, or an error while rendering)."""


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=jinja2.StrictUndefined,  # a missing value is an error, never an empty hole in a message
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # the templates ship with the package: no stat of each file per message
    )
    return env


def _block(template: jinja2.Template, name: str, context: dict[str, Any]) -> str:
    if name not in template.blocks:
        raise TemplateFailed(f"{template.name} has no block {name!r}")
    return "".join(template.blocks[name](template.new_context(context))).strip()


def headline(name: str, context: dict[str, Any]) -> tuple[str, str]:
    """(subject, one-line summary) of template ``name``: what the notice shows, without the body."""
    try:
        txt = environment().get_template(f"{name}.txt")
        subject = " ".join(_block(txt, "subject", context).split())
        summary = " ".join(_block(txt, "summary", context).split())
    except TemplateFailed:
        raise
    except Exception as exc:  # noqa: BLE001 — any error of a template parks its message
        raise TemplateFailed(f"template {name}: {type(exc).__name__}: {exc}") from exc
    if not subject:
        raise TemplateFailed(f"template {name}: the subject is empty")
    return subject[:250], summary[:500]


def render(name: str, context: dict[str, Any]) -> Rendered:
    """Subject, summary, text and HTML of template ``name`` with ``context``."""
    env = environment()
    try:
        txt = env.get_template(f"{name}.txt")
        html = env.get_template(f"{name}.html")
        subject = " ".join(_block(txt, "subject", context).split())
        summary = " ".join(_block(txt, "summary", context).split())
        text = txt.render(context)
        body = html.render(context)
    except TemplateFailed:
        raise
    except jinja2.TemplateError as exc:
        raise TemplateFailed(f"template {name}: {type(exc).__name__}: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 — an error inside a template (a filter, a bad value) parks too
        raise TemplateFailed(f"template {name}: {type(exc).__name__}: {exc}") from exc
    if not subject:
        raise TemplateFailed(f"template {name}: the subject is empty")
    return Rendered(subject=subject[:250], text=text, html=body, summary=summary[:500])
