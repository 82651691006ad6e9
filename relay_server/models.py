"""The relay's tables [0049, 0058]: accounts, devices, tokens, friends, pushes, events, packages."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import peewee as pw

from relay_server.db import database, utcnow


class SequenceField(pw.AutoField):
    """An id that never goes back, even after the highest rows were deleted.

    SQLite hands out ``max(id) + 1`` for a plain integer primary key, so deleting the newest
    rows (a removed device's events) gave their ids out again, and a device holding one of
    them as its Last-Event-ID missed what came next. ``AUTOINCREMENT`` keeps the high-water
    mark in ``sqlite_sequence``; PostgreSQL's sequences never go back anyway. Databases made
    before this are rebuilt once at start-up (``relay_server.db._use_sequences``).
    """

    def ddl(self, ctx: pw.Context) -> pw.NodeList:
        node = super().ddl(ctx)
        if isinstance(self.model._meta.database.obj, pw.SqliteDatabase):
            return pw.NodeList((node, pw.SQL("AUTOINCREMENT")))
        return node


class BaseModel(pw.Model):
    """Every table's base: the relay's database proxy.

    peewee makes a ``<name>_id`` attribute for each foreign key and a query attribute for each
    backref at class creation, where the type checker cannot see them; each model declares the
    ones the relay uses in a ``TYPE_CHECKING`` block, and its implicit ``id`` explicitly (the
    same ``AutoField`` peewee would add).
    """

    class Meta:
        database = database


class Account(BaseModel):
    """A user account; its devices form the patent's account list."""

    id = pw.AutoField()
    username = pw.CharField(max_length=32, unique=True)
    password_hash = pw.CharField(max_length=255)
    created_at = pw.DateTimeField(default=utcnow)

    if TYPE_CHECKING:
        devices: pw.ModelSelect[Device]
        friend_requests_sent: pw.ModelSelect[Friendship]
        friend_requests_received: pw.ModelSelect[Friendship]


class Device(BaseModel):
    """A device that logged in with an account (device id, type/platform, model) [0049]."""

    id = pw.CharField(max_length=128, primary_key=True)
    account = pw.ForeignKeyField(Account, backref="devices", on_delete="CASCADE")
    name = pw.CharField(max_length=100)
    model = pw.CharField(max_length=100)
    platform = pw.CharField(max_length=32)
    #: The device's Ed25519 public key (base64), registered at login; it signs its pushes.
    public_key = pw.CharField(max_length=64, null=True)
    created_at = pw.DateTimeField(default=utcnow)
    last_seen = pw.DateTimeField(null=True)

    if TYPE_CHECKING:
        account_id: int
        tokens: pw.ModelSelect[Token]
        pushes_sent: pw.ModelSelect[Push]
        pushes_received: pw.ModelSelect[Push]
        events: pw.ModelSelect[Event]


class Token(BaseModel):
    """A device's bearer token; only its SHA-256 is stored."""

    token_hash = pw.CharField(max_length=64, primary_key=True)
    device = pw.ForeignKeyField(Device, backref="tokens", on_delete="CASCADE")
    created_at = pw.DateTimeField(default=utcnow)
    revoked_at = pw.DateTimeField(null=True)

    if TYPE_CHECKING:
        device_id: str


class Friendship(BaseModel):
    """A user relation between accounts [13]; only ``accepted`` ones associate devices."""

    id = pw.AutoField()
    requester = pw.ForeignKeyField(Account, backref="friend_requests_sent", on_delete="CASCADE")
    addressee = pw.ForeignKeyField(Account, backref="friend_requests_received", on_delete="CASCADE")
    status = pw.CharField(max_length=16, default="pending")  # pending | accepted
    created_at = pw.DateTimeField(default=utcnow)

    if TYPE_CHECKING:
        requester_id: int
        addressee_id: int

    class Meta:
        indexes = ((("requester", "addressee"), True),)


class Package(BaseModel):
    """A package file in the relay's content-addressed store (one row per SHA-256)."""

    sha256 = pw.CharField(max_length=64, primary_key=True)
    size = pw.BigIntegerField()
    content_type = pw.CharField(max_length=100)
    created_at = pw.DateTimeField(default=utcnow)


class CatalogApp(BaseModel):
    """An app of the relay's own store, downloadable by app id [0074-0079]."""

    app_id = pw.CharField(max_length=200, primary_key=True)
    name = pw.CharField(max_length=200)
    version = pw.CharField(max_length=64)
    version_code = pw.BigIntegerField(null=True)
    description = pw.TextField(default="")
    developer = pw.CharField(max_length=200, default="")
    license = pw.CharField(max_length=100, default="")
    homepage = pw.CharField(max_length=500, default="")
    category = pw.CharField(max_length=100, default="")
    icon = pw.CharField(max_length=200, default="")

    if TYPE_CHECKING:
        packages: pw.ModelSelect[CatalogPackage]


class CatalogPackage(BaseModel):
    """The (app id, format) to package table of the patent [0077]."""

    id = pw.AutoField()
    app = pw.ForeignKeyField(CatalogApp, backref="packages", on_delete="CASCADE")
    format = pw.CharField(max_length=16)
    package = pw.ForeignKeyField(Package, on_delete="RESTRICT")
    filename = pw.CharField(max_length=255)
    runtime = pw.CharField(max_length=100, default="")

    if TYPE_CHECKING:
        app_id: str
        package_id: str

    class Meta:
        indexes = ((("app", "format"), True),)


class Push(BaseModel):
    """One app pushed to one device, with where it stands [claims 2, 3, 9-11]."""

    id = pw.CharField(max_length=40, primary_key=True)
    sender_device = pw.ForeignKeyField(Device, backref="pushes_sent", on_delete="CASCADE")
    #: (indexed with ``state``, below)
    target_device = pw.ForeignKeyField(Device, backref="pushes_received", on_delete="CASCADE", index=False)
    app_id = pw.CharField(max_length=200, index=True)
    app_json = pw.TextField()  # the install information as sent (shared.protocol.InstallInfo)
    requested_mode = pw.CharField(max_length=16)
    mode = pw.CharField(max_length=16)  # effective: a friend's device only gets notify
    format = pw.CharField(max_length=16)
    package_url = pw.TextField()  # the original URL, or the relay's own copy once mirrored
    package_sha256 = pw.CharField(max_length=64, null=True)
    package_size = pw.BigIntegerField(null=True)
    original_url = pw.TextField()
    mirror_status = pw.CharField(max_length=16, default="none")  # none|pending|done|failed
    state = pw.CharField(max_length=24, index=True)
    detail = pw.TextField(null=True)
    bytes_done = pw.BigIntegerField(null=True)
    bytes_total = pw.BigIntegerField(null=True)
    created_at = pw.DateTimeField(default=utcnow, index=True)
    updated_at = pw.DateTimeField(default=utcnow)
    sent_at = pw.DateTimeField(null=True)
    acknowledged_at = pw.DateTimeField(null=True)
    #: Last progress forwarded to the sender, for coalescing (percent, time).
    forwarded_percent = pw.IntegerField(null=True)
    forwarded_at = pw.DateTimeField(null=True)
    #: The sender's signature for this target (shared.signing.PushSignature as JSON), if signed.
    signature = pw.TextField(null=True)

    class Meta:
        #: A reconnecting stream asks for the device's unacknowledged pushes
        #: (``events.pending_for``): this finds them without reading the rest of its pushes.
        indexes = ((("target_device", "state"), False),)

    if TYPE_CHECKING:
        sender_device_id: str
        target_device_id: str
        history: pw.ModelSelect[PushHistory]

    @property
    def app(self) -> dict[str, Any]:
        app: dict[str, Any] = json.loads(self.app_json)
        return app

    @property
    def signature_dict(self) -> dict[str, Any] | None:
        if not self.signature:
            return None
        signature: dict[str, Any] = json.loads(self.signature)
        return signature


class PushHistory(BaseModel):
    """Every state a push went through."""

    id = pw.AutoField()
    push = pw.ForeignKeyField(Push, backref="history", on_delete="CASCADE")
    state = pw.CharField(max_length=24)
    detail = pw.TextField(null=True)
    bytes_done = pw.BigIntegerField(null=True)
    bytes_total = pw.BigIntegerField(null=True)
    at = pw.DateTimeField(default=utcnow)

    if TYPE_CHECKING:
        push_id: str


class Event(BaseModel):
    """The per-device event log behind ``GET /stream``; ids only ever grow.

    ``push`` events are rendered from their Push row when sent, so a device that was
    offline gets the install information as it stands then (pointing at the mirror).
    """

    id = SequenceField()
    device = pw.ForeignKeyField(Device, backref="events", on_delete="CASCADE")
    kind = pw.CharField(max_length=24)
    push = pw.ForeignKeyField(Push, null=True, on_delete="CASCADE")
    payload = pw.TextField(null=True)
    created_at = pw.DateTimeField(default=utcnow)

    if TYPE_CHECKING:
        device_id: str
        push_id: str | None

    class Meta:
        indexes = ((("device", "id"), False),)


class RelayInstance(BaseModel):
    """One running relay process."""

    id = pw.CharField(max_length=32, primary_key=True)
    started_at = pw.DateTimeField(default=utcnow)
    heartbeat_at = pw.DateTimeField(default=utcnow)


class Presence(BaseModel):
    """A device holding at least one stream on a relay instance."""

    device = pw.ForeignKeyField(Device, on_delete="CASCADE")
    instance = pw.ForeignKeyField(RelayInstance, on_delete="CASCADE")

    if TYPE_CHECKING:
        device_id: str
        instance_id: str

    class Meta:
        primary_key = pw.CompositeKey("device", "instance")


class InstalledApp(BaseModel):
    """An app installed on a device, as the device last reported it (its own account sees it:
    the picker shows "Installed" or "Update from 3.5 to 3.6")."""

    device = pw.ForeignKeyField(Device, on_delete="CASCADE")
    app_id = pw.CharField(max_length=200)
    version = pw.CharField(max_length=64, null=True)
    version_code = pw.BigIntegerField(null=True)
    updated_at = pw.DateTimeField(default=utcnow)

    if TYPE_CHECKING:
        device_id: str

    class Meta:
        primary_key = pw.CompositeKey("device", "app_id")


class Pairing(BaseModel):
    """A one-time code that signs a new phone in to an account without a password (issue 14).

    Only the code's SHA-256 is stored; it is good for ``PAIRING_TTL`` seconds and once.
    """

    code_hash = pw.CharField(max_length=64, primary_key=True)
    account = pw.ForeignKeyField(Account, on_delete="CASCADE")
    created_by = pw.ForeignKeyField(Device, on_delete="CASCADE")
    created_at = pw.DateTimeField(default=utcnow)
    expires_at = pw.DateTimeField()
    used_at = pw.DateTimeField(null=True)
    used_by = pw.CharField(max_length=128, null=True)

    if TYPE_CHECKING:
        account_id: int
        created_by_id: str


class HealthProbe(BaseModel):
    """One row the health check rewrites: proof that the database still takes a write."""

    id = pw.IntegerField(primary_key=True)
    at = pw.DateTimeField(default=utcnow)


ALL_MODELS: list[type[BaseModel]] = [
    Account,
    Device,
    Token,
    Friendship,
    Package,
    CatalogApp,
    CatalogPackage,
    Push,
    PushHistory,
    Event,
    RelayInstance,
    Presence,
    Pairing,
    InstalledApp,
    HealthProbe,
]
