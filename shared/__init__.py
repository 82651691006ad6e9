"""Code every part of Appbeam shares: the wire protocol, the relay client, paths, the command line."""

__version__ = "0.1.0"
