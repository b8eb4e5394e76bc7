"""Pass tokens: what a QR holds and what a scanner or a person types. Pure functions, no
database: the check is a keyed MAC, so a typo or a forged code is refused offline."""

from __future__ import annotations

import re

import pytest

from shouwang.residents import tokens
from shouwang.residents.tokens import TokenError

CODE = "3K9QXTM2"  # 8 characters of the alphabet


@pytest.fixture
def token():
    return tokens.token_for(CODE)


def _kind(raw: str) -> str:
    with pytest.raises(TokenError) as info:
        tokens.parse(raw)
    return info.value.kind


# --- shape --------------------------------------------------------------------------------


def test_alphabet_is_crockford_base32():
    assert len(tokens.ALPHABET) == 32
    assert len(set(tokens.ALPHABET)) == 32
    for confusable in "ILOU":
        assert confusable not in tokens.ALPHABET


def test_new_code_is_eight_alphabet_characters_and_random():
    codes = {tokens.new_code() for _ in range(200)}
    assert len(codes) == 200, "200 random 40-bit codes do not collide"
    for c in codes:
        assert len(c) == tokens.CODE_LEN == 8
        assert set(c) <= set(tokens.ALPHABET)


def test_token_is_sixteen_characters_sw_code_check(token):
    assert len(token) == tokens.TOKEN_LEN == 16
    assert token.startswith("SW")
    assert token[2:10] == CODE
    assert set(token[2:]) <= set(tokens.ALPHABET)
    # QR alphanumeric mode: capitals and digits only.
    assert re.fullmatch(r"[0-9A-Z]{16}", token)


def test_token_is_deterministic_and_depends_on_the_code():
    assert tokens.token_for(CODE) == tokens.token_for(CODE)
    assert tokens.check_for(CODE) != tokens.check_for("3K9QXTM3")


def test_check_depends_on_the_field_key(settings):
    """The check is keyed (by the field key, not SECRET_KEY): with another key the same code
    gets another check, so nobody without the key can make a valid token."""
    before = tokens.token_for(CODE)
    settings.FIELD_KEY = "another-field-key-" + "x" * 40
    after = tokens.token_for(CODE)
    assert after[:10] == before[:10]
    assert after != before
    with pytest.raises(TokenError) as info:
        tokens.parse(before)
    assert info.value.kind == "forged"


def test_check_survives_a_secret_key_change(settings, token):
    settings.SECRET_KEY = "a-new-secret-key-" + "y" * 40
    assert tokens.token_for(CODE) == token
    assert tokens.parse(token) == CODE


# --- round trip and the many ways a token arrives -----------------------------------------


def test_round_trip(token):
    assert tokens.parse(token) == CODE


def test_round_trip_of_many_random_codes():
    for _ in range(100):
        code = tokens.new_code()
        assert tokens.parse(tokens.token_for(code)) == code


def test_lower_case(token):
    assert tokens.parse(token.lower()) == CODE


def test_grouping_dashes_and_spaces(token):
    assert tokens.parse(tokens.grouped(token)) == CODE
    assert tokens.parse(" ".join(token[i : i + 4] for i in range(0, 16, 4))) == CODE
    assert tokens.parse(f"  {token}\n") == CODE
    assert tokens.parse(f"{token[:7]} - {token[7:]}") == CODE


def test_full_width_input_from_a_chinese_input_method(token):
    full = "".join(chr(ord(c) + 0xFEE0) for c in token)  # Ａ..Ｚ, ０..９
    assert full != token
    assert tokens.parse(full) == CODE
    # Full-width dash and the ideographic space as separators.
    grouped_full = "－".join(full[i : i + 4] for i in range(0, 16, 4))
    assert tokens.parse(grouped_full) == CODE
    assert tokens.parse("\u3000" + full + "\u3000") == CODE


def test_url_around_the_token(token):
    assert tokens.parse(f"https://sw.example/p/{token}") == CODE
    assert tokens.parse(f"https://sw.example/p/{token}/") == CODE
    assert tokens.parse(f"sw.example/{token.lower()}") == CODE


def test_letters_that_look_like_digits_are_read_as_digits():
    code = "10000111"
    token = tokens.token_for(code)
    assert token.startswith("SW10000111")
    typed = "SW" + "IOOOOlLI" + token[10:]
    assert tokens.parse(typed) == code
    assert tokens.parse(typed.lower()) == code


def test_confusables_in_the_check_part_too():
    # Find a code whose check has a 0 or 1 in it, then type it with O / I / L.
    for i in range(2000):
        code = f"{i:08d}".translate(str.maketrans("23456789", "ABCDEFGH"))
        token = tokens.token_for(code)
        check = token[10:]
        if "0" in check or "1" in check:
            break
    else:  # pragma: no cover - 2000 checks without a 0 or 1 is (31/32)^12000
        pytest.fail("no check with 0 or 1")
    typed = token[:10] + check.replace("0", "O").replace("1", "l")
    assert tokens.parse(typed) == code


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["", "   ", None, "\u3000", " - - "])
def test_empty(raw):
    assert _kind(raw) == "empty"


@pytest.mark.parametrize(
    "raw",
    [
        "hello",
        "SW123",
        "SW" + "0" * 15,  # 17 characters
        "SW" + "0" * 13,  # 15 characters
        "XX" + "0" * 14,  # wrong prefix
        "SW" + "0" * 13 + "U",  # U is not in the alphabet
        "SW" + "0" * 13 + "!",
        "6925555502348",  # a supermarket barcode
    ],
)
def test_unreadable(raw):
    assert _kind(raw) == "unreadable"


def test_wrong_check_is_forged(token):
    forged = token[:10] + ("000000" if token[10:] != "000000" else "111111")
    assert _kind(forged) == "forged"


def test_every_single_character_change_is_refused(token):
    """A scanner misreading one character, or someone editing a printed code, never lands on
    another valid token: every position, every other character."""
    accepted = []
    for pos in range(len(token)):
        for ch in tokens.ALPHABET + "SWUX":
            if ch == token[pos]:
                continue
            changed = token[:pos] + ch + token[pos + 1 :]
            try:
                tokens.parse(changed)
            except TokenError as e:
                assert e.kind in {"forged", "unreadable"}, (pos, ch, e.kind)
            else:
                accepted.append((pos, ch))
    assert accepted == []


def test_token_error_is_a_value_error_with_a_kind():
    e = TokenError("forged")
    assert isinstance(e, ValueError)
    assert e.kind == "forged"
    assert str(e) == "forged"


# --- grouped ------------------------------------------------------------------------------


def test_grouped(token):
    g = tokens.grouped(token)
    assert g == f"{token[0:4]}-{token[4:8]}-{token[8:12]}-{token[12:16]}"
    assert len(g) == 19
    assert g.replace("-", "") == token


def test_grouped_of_a_short_string():
    assert tokens.grouped("ABCDEF") == "ABCD-EF"
    assert tokens.grouped("") == ""


# --- household link tokens ----------------------------------------------------------------


def test_link_tokens_are_random_url_safe_and_hashed():
    a, b = tokens.new_link_token(), tokens.new_link_token()
    assert a != b
    assert re.fullmatch(r"[A-Za-z0-9_\-]{22}", a)
    h = tokens.link_hash(a)
    assert re.fullmatch(r"[0-9a-f]{64}", h)
    assert h == tokens.link_hash(a) != tokens.link_hash(b)
    assert a not in h
