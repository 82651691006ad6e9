"""The JSON API under ``/api/v1``: one module per resource, one blueprint for all."""

from flask import Blueprint

from shared.protocol import API_PREFIX

api = Blueprint("api", __name__, url_prefix=API_PREFIX)

# Importing the modules registers their routes on ``api``.
from relay_server.api import (  # noqa: E402,F401
    accounts,
    catalog,
    devices,
    friends,
    installed,
    packages,
    pairings,
    pushes,
    stream,
)
