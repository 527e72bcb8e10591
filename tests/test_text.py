"""printable: hostile names become visible escapes, of bounded length, and nothing else changes."""

import unicodedata

import pytest

from oomtui.text import ELLIPSIS, escape_char, printable


@pytest.mark.parametrize(("raw", "shown"), [
    ("\x1b[2Jboom", r"\x1b[2Jboom"),
    ("a\x00b", r"a\x00b"),
    ("line\nbreak\r\t", r"line\x0abreak\x0d\x09"),
    ("del\x7f", r"del\x7f"),
    ("csi\x9b31m", r"csi\x9b31m"),  # a C1 control: one byte CSI on some terminals
    ("evil\u202etxt.exe", r"evil\u202etxt.exe"),  # right-to-left override
    ("zero\u200bwidth\ufeff", r"zero\u200bwidth\ufeff"),
    ("sep\u2028par\u2029", r"sep\u2028par\u2029"),
    ("tag\U000e0041", r"tag\U000e0041"),  # an astral format character
    ("bad\udcffbyte", r"bad\udcffbyte"),  # surrogateescape'd undecodable byte
])
def test_controls_and_format_characters_become_escapes(raw, shown):
    out = printable(raw, limit=None)
    assert out == shown
    assert out.isascii()
    assert all(unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in out)


@pytest.mark.parametrize("plain", [
    "nginx: worker process", "[/bold]", "[red]x", r"dev-disk-by\x2duuid.device", "日本語のプロセス", "café ☕",
    "\u00a0nbsp", "",
])
def test_ordinary_text_is_untouched(plain):
    assert printable(plain) == plain


def test_length_is_capped_with_an_ellipsis():
    out = printable("x" * 500, limit=20)
    assert out == "x" * 19 + ELLIPSIS
    assert len(out) == 20
    assert printable("x" * 20, limit=20) == "x" * 20


def test_default_cap():
    assert len(printable("y" * 10_000)) == 200


def test_an_escape_is_never_cut_in_half():
    out = printable("abcd\x1befgh", limit=7)
    assert out == "abcd" + ELLIPSIS  # "\x1b" would need 4 of the 6 characters left
    assert len(printable("\x1b" * 100, limit=10)) <= 10
    assert printable("\x1b" * 100, limit=10) == r"\x1b\x1b" + ELLIPSIS


def test_a_cut_fills_the_room_to_the_last_character():
    # 4 letters fill the 4 characters left beside the ellipsis; the escape would not fit
    assert printable("abcd\x1b", limit=5) == "abcd" + ELLIPSIS


def test_escaped_result_within_limit_is_whole():
    assert printable("a\x1b", limit=5) == r"a\x1b"


def test_limit_one_and_invalid_limits():
    assert printable("long name", limit=1) == ELLIPSIS
    assert printable("x", limit=1) == "x"
    with pytest.raises(ValueError, match=r"^limit must be at least 1$"):
        printable("x", limit=0)


@pytest.mark.parametrize(("n", "spelled"), [
    (0x00, r"\x00"), (0xff, r"\xff"), (0x100, r"\u0100"), (0xffff, r"\uffff"), (0x10000, r"\U00010000"),
    (0x10ffff, r"\U0010ffff"),
])
def test_escape_char_takes_the_shortest_python_escape_that_holds_the_code_point(n, spelled):
    assert escape_char(chr(n)) == spelled


def test_every_control_and_format_character_in_the_bmp_is_escaped():
    hostile = "".join(chr(n) for n in range(0x10000) if unicodedata.category(chr(n)) in ("Cc", "Cf"))
    out = printable(hostile, limit=None)
    assert out.isascii() and out.isprintable()
    assert out.count("\\") == len(hostile)


def test_printable_middle_keeps_both_ends_and_never_cuts_an_escape():
    from oomtui.text import printable_middle

    assert printable_middle("short", 10) == "short"
    cut = printable_middle("/usr/lib/very/long/path/to/some/binary --flag leaf", 30)
    assert len(cut) == 30 and cut.startswith("/usr/lib/") and cut.endswith("--flag leaf") and "…" in cut
    escaped = printable_middle("a" * 40 + "\x1b[2J" + "tail", 20)
    assert escaped.endswith("\\x1b[2Jtail") and "\x1b" not in escaped and len(escaped) <= 20
    assert "\\x" not in printable_middle("\x1b" * 30, 11).replace("\\x1b", "")  # whole escapes only


def test_printable_middle_gives_a_third_of_the_room_to_the_start():
    from oomtui.text import printable_middle

    # 7 characters beside the ellipsis: 7 // 3 = 2 for the start, 5 for the end
    assert printable_middle("abcdefghij", 8) == "ab" + ELLIPSIS + "fghij"
    assert printable_middle("abcde", 5) == "abcde"  # exactly the limit: nothing cut
    assert printable_middle("abc", 2) == ELLIPSIS + "c"  # the smallest limit keeps the last character
    with pytest.raises(ValueError, match=r"^limit must be at least 2$"):
        printable_middle("abc", 1)
