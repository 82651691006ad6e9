"""A part started without its extra says which one to install (no ModuleNotFoundError traceback)."""

from __future__ import annotations


def test_a_part_started_without_its_extra_says_which_one_to_install(monkeypatch, capsys):
    import builtins

    from appbeam_devtools import cli

    real_import = builtins.__import__

    def no_gevent(name, *args, **kwargs):
        if name == "gevent" or name.startswith("gevent."):
            raise ModuleNotFoundError("No module named 'gevent'", name="gevent")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_gevent)

    assert cli.main(["relay", "--port", "0"]) == 2
    assert "pip install 'appbeam[relay]'" in capsys.readouterr().err
