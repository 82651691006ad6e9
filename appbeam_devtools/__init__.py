"""Appbeam's developer tools: what runs the parts, not what the parts are.

The ``appbeam`` command's dispatcher (``cli``), the whole system on one machine (``demo``),
a relay in a child process (``local_relay``), the screenshot renderers and the sender's
headless tour, and the receiver's automation socket (``receiver_control``). They live apart
from ``shared/`` (which ships in the APK and only holds what every part needs) so that a
phone never carries them; buildozer.spec leaves this folder out.
"""
