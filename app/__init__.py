"""Caseward core: Qt-free domain, store, security, services and import/export."""

__version__ = "0.1.0"
