"""MongoDB repositories and indexes of the accounts service."""

from .mongo import (
    INDEXES,
    AccountRepo,
    CityRepo,
    ExceptionRequestRepo,
    PartnerRepo,
    SecurityRepo,
    load_or_create_dev_key,
)

__all__ = ["INDEXES", "AccountRepo", "CityRepo", "ExceptionRequestRepo", "PartnerRepo", "SecurityRepo", "load_or_create_dev_key"]
