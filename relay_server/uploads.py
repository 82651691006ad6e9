"""Packages a device uploaded to the relay (issue 14, item 5: push any file).

A package file on a computer (built there, or had from a friend) has no address a phone could
fetch, so the sender uploads it (``PUT /api/v1/packages/<sha256>``, relay_server/api/uploads.py)
and pushes the relay's copy. The copy lives in the content-addressed package store like a
mirror copy; this module keeps who uploaded it:

- ``PackageUpload``: one row per (account, package). Only that account may push
  ``/api/v1/packages/<sha256>`` because of an upload (``owns``), and its devices may ask whether
  the relay has it (``HEAD``, the sender's "already here" check; they read it through a push).
  Knowing a hash is never enough: a device must send the bytes once to own them.
- ``quota_left``: the bytes an account may still upload, ``config.upload_quota_bytes`` minus
  what its uploads keep on the relay.
- Housekeeping deletes an upload with its package (relay_server/janitor.py), once no
  unfinished push uses it and ``package_grace`` has passed since it was uploaded.
"""

from __future__ import annotations

import peewee as pw

from relay_server.db import database, is_postgres, utcnow
from relay_server.models import Account, BaseModel, Package


class PackageUpload(BaseModel):
    """A package an account uploaded; the account may push it to its devices and friends'."""

    account = pw.ForeignKeyField(Account, on_delete="CASCADE")
    package = pw.ForeignKeyField(Package, on_delete="CASCADE")
    size = pw.BigIntegerField()
    uploaded_at = pw.DateTimeField(default=utcnow)

    class Meta:
        primary_key = pw.CompositeKey("account", "package")
        table_name = "packageupload"


def create_table() -> None:
    """Create the table if a relay made before uploads has none (called at start-up)."""
    with database.connection_context():
        database.create_tables([PackageUpload], safe=True)


def owns(account_id: int, sha256: str) -> bool:
    """Did this account upload the package ``sha256``?"""
    return (
        PackageUpload.select(PackageUpload.size)
        .where((PackageUpload.account == account_id) & (PackageUpload.package == sha256))
        .exists()
    )


def stored_bytes(account_id: int) -> int:
    """Bytes of uploads the account keeps on the relay now."""
    total = (
        PackageUpload.select(pw.fn.COALESCE(pw.fn.SUM(PackageUpload.size), 0))
        .where(PackageUpload.account == account_id)
        .scalar()
    )
    return int(total or 0)


def quota_left(account_id: int, quota: int) -> int:
    return max(0, quota - stored_bytes(account_id))


class OverQuota(Exception):
    """Recording this upload would take the account past its quota (uploads that arrived together)."""


def record(account_id: int, sha256: str, size: int, content_type: str, quota: int) -> bool:
    """The package is in the store: make sure it has its row, mark it this account's, and restart
    its grace period (it is about to be pushed). True if the account did not own it before.

    The quota is checked again here, in the transaction that records the upload: several uploads
    of one account may have passed the check made before their bytes arrived (OverQuota)."""
    now = utcnow()
    with database.atomic():
        if is_postgres():
            # One account's uploads are recorded one at a time (SQLite's IMMEDIATE transactions
            # already are): the sum read below must include an upload committed meanwhile.
            Account.select(Account.id).where(Account.id == account_id).for_update().execute()
        before = owns(account_id, sha256)
        if not before and stored_bytes(account_id) + size > quota:
            raise OverQuota()
        if not Package.update(created_at=now).where(Package.sha256 == sha256).execute():
            (
                Package.insert(sha256=sha256, size=size, content_type=content_type, created_at=now)
                .on_conflict_ignore()
                .execute()
            )
        if before:
            (
                PackageUpload.update(uploaded_at=now)
                .where((PackageUpload.account == account_id) & (PackageUpload.package == sha256))
                .execute()
            )
        else:
            (
                PackageUpload.insert(account=account_id, package=sha256, size=size, uploaded_at=now)
                .on_conflict_ignore()
                .execute()
            )
    return not before


def disown(account_id: int, sha256: str) -> None:
    """The upload's file could not be put in place after its row was written: the account does
    not own it (and its quota does not count it)."""
    PackageUpload.delete().where((PackageUpload.account == account_id) & (PackageUpload.package == sha256)).execute()


def forget(sha256: str) -> None:
    """Housekeeping deleted the package: nobody owns an upload of it any more."""
    PackageUpload.delete().where(PackageUpload.package == sha256).execute()
