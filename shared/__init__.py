"""Code every part of Appbeam shares: the wire protocol, signing, the relay client, paths, formatting."""

__version__ = "0.1.0"
