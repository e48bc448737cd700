"""Settings refused at start: the bootstrap administrator's email is checked like any staff email."""

import pytest
from pydantic import ValidationError

from accounts.config import Settings
from accounts.handlers import CreateStaff


@pytest.mark.parametrize("email", ["admin@nrn.localhost", "admin@example.test", "admin@nrn.local", "not-an-email",
                                   "admin@"])
def test_a_bootstrap_admin_email_staff_creation_would_refuse_fails_start_naming_the_setting(email: str, monkeypatch) -> None:  # noqa: ANN001
    staff = {"name": "Admin", "email": email, "roles": ["administrator"]}
    with pytest.raises(ValidationError):
        CreateStaff(**staff)  # what accounts says to an administrator creating this staff account
    monkeypatch.setenv("NRN_BOOTSTRAP_ADMIN_EMAIL", email)
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert "NRN_BOOTSTRAP_ADMIN_EMAIL" in str(refused.value) and email in str(refused.value)


@pytest.mark.parametrize("email", ["admin@example.org", "admin@nrn.example", " ops@city.gov "])
def test_a_valid_bootstrap_admin_email_is_kept_as_staff_creation_keeps_it(email: str, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("NRN_BOOTSTRAP_ADMIN_EMAIL", email)
    assert Settings().bootstrap_admin_email == CreateStaff(name="A", email=email, roles=["administrator"]).email


def test_no_bootstrap_admin_is_still_fine(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("NRN_BOOTSTRAP_ADMIN_EMAIL", "")
    assert Settings().bootstrap_admin_email is None
    monkeypatch.delenv("NRN_BOOTSTRAP_ADMIN_EMAIL")
    assert Settings().bootstrap_admin_email is None
