"""Appbeam's benchmark suite: the relay, the receiver's download engine and the sender,
each measured next to a peer (Mosquitto, nginx, curl) in the same run on the same machine.

Run ``python -m bench`` (``--smoke`` for a tiny run, ``--only NAME`` for one benchmark);
see ``bench/README.md``.
"""
