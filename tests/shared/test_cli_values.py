"""Flags with a value the command cannot use are refused at once, by argparse, naming the flag and
what it accepts (not taken and acted on: "Still not done after -5 s.", a window in English for
``--lang fr``, a traceback for ``--size abc``)."""

from __future__ import annotations

import pytest

from appbeam_devtools import cli


def _refused(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as stopped:
        cli.build_parser().parse_args(argv)  # only the parsing: a value let through would start the part
    assert stopped.value.code == 2
    return capsys.readouterr().err.splitlines()[-1]  # "appbeam push: error: argument --timeout: ..." (not the usage)


@pytest.mark.parametrize("timeout", ["-5", "0", "soon", "nan"])
def test_push_refuses_a_timeout_that_is_not_seconds_above_zero(capsys, timeout):
    err = _refused(capsys, ["push", "org.videolan.vlc", "--to", "Anna's Pixel", "--wait", "--timeout", timeout])
    assert "argument --timeout" in err and "seconds above 0" in err


def test_push_takes_a_timeout_in_seconds():
    args = cli.build_parser().parse_args(["push", "x", "--to", "y", "--timeout", "2.5"])
    assert args.timeout == 2.5


@pytest.mark.parametrize("lang", ["fr", "de_DE.UTF-8", "zh_TW"])
def test_sender_refuses_a_language_it_does_not_speak_and_names_those_it_does(capsys, lang):
    err = _refused(capsys, ["sender", "--lang", lang])
    assert "argument --lang" in err and "en or zh_CN" in err


@pytest.mark.parametrize("lang", ["en", "zh_CN", "zh-CN", "zh", "en_GB.UTF-8"])
def test_sender_takes_the_ways_of_naming_its_languages(lang):
    assert cli.build_parser().parse_args(["sender", "--lang", lang]).lang == lang


@pytest.mark.parametrize("size", ["abc", "420", "420x", "0x860", "420 x 860", "420x860px"])
def test_receiver_refuses_a_size_that_is_not_width_x_height(capsys, size):
    err = _refused(capsys, ["receiver", "--size", size])
    assert "argument --size" in err and "WIDTHxHEIGHT" in err


def test_receiver_size_is_width_by_height_and_a_phone_by_default():
    parse = cli.build_parser().parse_args
    assert parse(["receiver", "--size", "900x600"]).size == (900, 600)
    assert parse(["receiver"]).size == (420, 860)


def test_every_receiver_flag_says_what_it_does():
    import argparse

    from mobile_receiver.cli import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    silent = [a.option_strings[0] for a in parser._actions if a.option_strings and not a.help]
    assert silent == []


def test_demo_help_counts_the_receivers_the_demo_starts(capsys):
    from appbeam_devtools.demo import RECEIVERS

    with pytest.raises(SystemExit):
        cli.main(["--help"])
    words = {2: "two", 3: "three", 4: "four"}[len(RECEIVERS)]
    assert f"{words} receivers" in capsys.readouterr().out


@pytest.mark.parametrize("port", ["99999", "-1", "eighty"])
def test_demo_refuses_a_port_that_is_not_one(capsys, port):
    err = _refused(capsys, ["demo", "--headless", "--port", port])
    assert "argument --port" in err and "0 to 65535" in err
