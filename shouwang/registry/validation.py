"""Validate and normalise the personal fields of the household ledger.

Pure functions: no database, no models. Every function either returns the normalised value or
raises `InvalidValue` with a stable `code` (see `PROBLEM_CODES`), the `field` it concerns, and a
lazy English `message` that says what is wrong and how to fix it. Messages are formatted when
they are turned into `str`, so they come out in the language active at that moment.

`shouwang.registry.models` imports `IdType` from here, so this module must never import models.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

import phonenumbers
from django.db.models import TextChoices
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from stdnum.cn import ric

__all__ = [
    "PROBLEM_CODES",
    "IdInfo",
    "IdType",
    "InvalidValue",
    "check_birth_date",
    "check_id",
    "check_mobile",
    "check_name",
    "clean_text",
    "normalise_id_number",
    "parse_id_type",
    "parse_sex",
]


# --------------------------------------------------------------------------------------------
# Errors and messages
# --------------------------------------------------------------------------------------------


class InvalidValue(Exception):
    """A value that cannot go into the ledger. `message` is a lazy string: str() it late."""

    def __init__(self, code: str, message, field: str):
        super().__init__(code)
        self.code = code
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}: {self.code}: {self.message}"

    def __repr__(self) -> str:
        return f"InvalidValue({self.code!r}, field={self.field!r})"


def _render(template, params: dict) -> str:
    # `template % params` on a gettext_lazy / ngettext_lazy proxy translates right now, so this
    # runs only when the lazy result below is turned into str.
    values = {k: (str(v) if isinstance(v, Promise) else v) for k, v in params.items()}
    return template % values


_render_lazy = lazy(_render, str)


def _msg(template, **params):
    """A lazy message: `template` (a lazy string with %(name)s placeholders) filled at str()."""
    return _render_lazy(template, params)


PROBLEM_CODES: dict[str, str] = {
    "name_missing": _("Name is missing"),
    "name_invalid": _("Name contains invalid characters or is too long"),
    "id_missing": _("ID number is missing"),
    "id_format": _("ID number has the wrong length or characters"),
    "id_checksum": _("ID number check digit does not match (a digit is mistyped)"),
    "id_birth_date": _("ID number contains an impossible or future birth date"),
    "id_numeric_cell": _("ID number was stored as a number in the spreadsheet; digits are lost"),
    "id_type_unknown": _("ID type is not recognised"),
    "phone_invalid": _("Phone is not a valid Chinese mobile number"),
    "birth_date_invalid": _("Birth date is not a valid past date"),
    "sex_invalid": _("Sex is not recognised"),
}


# --------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff\u2060"))
_WHITESPACE_RUN = re.compile(r"\s+")


def clean_text(value) -> str:
    """None -> ""; NFKC; zero-width characters removed; any whitespace run -> one space; strip."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    # Fast path for the common case (an import calls this several times per row): ASCII text
    # is already NFKC and has no zero-width characters.
    if not text.isascii():
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
        text = text.translate(_ZERO_WIDTH)
    # str.split() splits on exactly the characters str.isspace() accepts, like the regex \s.
    return " ".join(text.split())


# --------------------------------------------------------------------------------------------
# ID type
# --------------------------------------------------------------------------------------------


class IdType(TextChoices):
    RESIDENT_ID = "resident_id", _("Resident ID card")
    HMT_PERMIT = "hmt_permit", _("Hong Kong/Macao/Taiwan residence permit")
    FOREIGN_PERMANENT = "foreign_permanent", _("Foreigner's permanent residence card")
    PASSPORT = "passport", _("Passport")
    OTHER = "other", _("Other document")


_ID_TYPE_SYNONYMS: dict[str, tuple[str, ...]] = {
    IdType.RESIDENT_ID: (
        "居民身份证",
        "身份证",
        "二代身份证",
        "第二代居民身份证",
        "身份证号",
        "身份证号码",
        "公民身份号码",
        "大陆居民身份证",
        # A temporary ID card carries the same citizen ID number.
        "临时身份证",
        "临时居民身份证",
        "resident id card",
        "resident id",
        "id card",
    ),
    IdType.HMT_PERMIT: (
        "港澳台居民居住证",
        "港澳居民居住证",
        "台湾居民居住证",
        "居住证(港澳台)",
        "港澳台居住证",
        "hong kong/macao/taiwan residence permit",
    ),
    IdType.FOREIGN_PERMANENT: (
        "外国人永久居留身份证",
        "外国人永久居留证",
        "永久居留身份证",
        "永居证",
        "foreigner's permanent residence card",
    ),
    IdType.PASSPORT: ("护照", "中国护照", "外国护照", "passport"),
    IdType.OTHER: (
        "其他",
        "其它",
        "其他证件",
        "other document",
        "军官证",
        "士兵证",
        "警官证",
        "港澳通行证",
        "港澳居民来往内地通行证",
        "台胞证",
        "台湾居民来往大陆通行证",
        "回乡证",
        "户口簿",
        "户口本",
        "出生证明",
        "出生医学证明",
    ),
}


def _id_type_key(label: str) -> str:
    return clean_text(label).replace(" ", "").casefold()


_ID_TYPE_BY_KEY: dict[str, str] = {}
for _value, _labels in _ID_TYPE_SYNONYMS.items():
    for _label in (_value, *_labels):
        _ID_TYPE_BY_KEY[_id_type_key(_label)] = str(_value)
del _value, _labels, _label


_ID_TYPE_VALUES = frozenset(IdType.values)


@lru_cache(maxsize=256)
def parse_id_type(label) -> str:
    """Map the ID-type cell of a spreadsheet to an `IdType` value. Blank means resident ID."""
    key = _id_type_key(label)
    if not key:
        return IdType.RESIDENT_ID.value
    try:
        return _ID_TYPE_BY_KEY[key]
    except KeyError:
        choices = lazy(lambda: ", ".join(str(lbl) for lbl in IdType.labels), str)()
        raise InvalidValue(
            "id_type_unknown",
            _msg(
                _(
                    "The ID type “%(label)s” is not recognised. Use one of: %(choices)s, "
                    "or leave the cell empty for a resident ID card."
                ),
                label=clean_text(label),
                choices=choices,
            ),
            "id_type",
        ) from None


# --------------------------------------------------------------------------------------------
# ID numbers
# --------------------------------------------------------------------------------------------

_ID_STRIP = dict.fromkeys(
    map(
        ord,
        " \t\n\r\f\v\u3000\u00a0\u200b\u200c\u200d\ufeff\u2060-\u2010\u2011\u2012\u2013\u2014\u2015\u2212",
    )
)
# Text an Excel number turns into: 3.20102E+17, 3.20102e17 (one digit before the point, an
# exponent of at most 3 digits), 320102198101011234.0, 320,102,198,101,011,000.
_NUMERIC_CELL = re.compile(
    r"[+-]?\d(?:\.\d*)?[eE][+-]?\d{1,3}|\d+\.0+|\d{1,3}(?:,\d{3})+(?:\.\d+)?"
)
_OTHER_STRIP = {**_ID_STRIP, ord("-"): "-"}  # "other" documents keep their dashes
_RESIDENT_RE = re.compile(r"\d{17}[\dX]")
_FOREIGN_2004_RE = re.compile(r"[A-Z]{3}\d{12}")
_PASSPORT_RE = re.compile(r"[A-Z0-9]{3,30}")
_OTHER_RE = re.compile(r"[A-Z0-9\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff-]{3,30}")
_HMT_PREFIXES = ("810000", "820000", "830000")


@dataclass(frozen=True)
class IdInfo:
    id_type: str
    number: str  # normalised
    sex: str  # "M", "F" or "" when the document does not tell
    birth_date: date | None


def normalise_id_number(raw) -> str:
    """clean_text, then drop every space, zero-width character and dash; upper-case."""
    if type(raw) is str and raw.isascii() and raw.isalnum():  # the common case, fast
        return raw.upper()
    return clean_text(raw).translate(_ID_STRIP).upper()


def _numeric_cell_error() -> InvalidValue:
    return InvalidValue(
        "id_numeric_cell",
        _(
            "The ID number was stored as a number in the spreadsheet, so Excel has already "
            "rounded away its last digits and it cannot be repaired. Set the column format to "
            "Text in Excel and type the number again from the ID document."
        ),
        "id_number",
    )


def _is_numeric_cell(raw, raw_is_number: bool) -> bool:
    if raw_is_number or (isinstance(raw, int | float) and not isinstance(raw, bool)):
        return True
    if isinstance(raw, str) and raw.isascii() and raw.isalnum():
        return False  # fast: no dot, no comma, no sign
    text = clean_text(raw).replace(" ", "")
    return _NUMERIC_CELL.fullmatch(text) is not None


def _id_length_error(number: str, expected) -> InvalidValue:
    return InvalidValue(
        "id_format",
        _msg(
            ngettext_lazy(
                "The ID number has %(count)d character; %(expected)s "
                "Check the number against the ID document.",
                "The ID number has %(count)d characters; %(expected)s "
                "Check the number against the ID document.",
                "count",
            ),
            count=len(number),
            expected=expected,
        ),
        "id_number",
    )


_RESIDENT_EXPECTED = _("a resident ID has 18 digits, the last may be X.")
_HMT_EXPECTED = _(
    "a Hong Kong/Macao/Taiwan residence permit number has 18 digits starting with 810000, "
    "820000 or 830000, the last may be X."
)
_FOREIGN_EXPECTED = _(
    "a foreigner's permanent residence card number has either 18 digits starting with 9 "
    "(the last may be X) or, on cards issued before December 2023, 3 letters followed by "
    "12 digits."
)


def _birth_date_checked(number: str, start: int, today: date, *, two_digit_year=False) -> date:
    """The birth date encoded at number[start:], validated; raises id_birth_date."""
    if two_digit_year:
        digits = number[start : start + 6]
        yy, month, day = int(digits[:2]), int(digits[2:4]), int(digits[4:])
        year = 2000 + yy
        try:
            if date(year, month, day) > today:
                year = 1900 + yy
        except ValueError:
            pass
    else:
        digits = number[start : start + 8]
        year, month, day = int(digits[:4]), int(digits[4:6]), int(digits[6:])
    try:
        born = date(year, month, day)
    except ValueError:
        raise InvalidValue(
            "id_birth_date",
            _msg(
                _(
                    "The ID number contains the birth date %(digits)s, which does not exist "
                    "(year, month, day). Compare the birth-date digits with the ID document."
                ),
                digits=digits,
            ),
            "id_number",
        ) from None
    if born > today:
        raise InvalidValue(
            "id_birth_date",
            _msg(
                _(
                    "The ID number gives the birth date %(date)s, which is in the future. "
                    "Compare the birth-date digits with the ID document."
                ),
                date=born.isoformat(),
            ),
            "id_number",
        )
    if born.year < 1900:
        raise InvalidValue(
            "id_birth_date",
            _msg(
                _(
                    "The ID number gives the birth year %(year)d, before 1900. "
                    "Compare the birth-date digits with the ID document."
                ),
                year=born.year,
            ),
            "id_number",
        )
    return born


def _check_mod11_2(number: str) -> None:
    # ISO 7064 MOD 11-2 (GB 11643-1999); stdnum's calc_check_digit ignores the last character.
    # It takes no notice of the region code, unlike stdnum's validate(), whose region table is
    # incomplete (it rejects 810000 and many codes still on residents' cards).
    if ric.calc_check_digit(number) != number[17]:
        raise InvalidValue(
            "id_checksum",
            _(
                "The last character of the ID number (the check digit) does not match the other "
                "17 digits, so at least one digit is mistyped. Compare every digit with the ID "
                "document. If the number ends in 000, it was probably stored as a number in "
                "Excel: set the column format to Text and type it again."
            ),
            "id_number",
        )


def _gb11643_style(number: str, id_type: str, today: date, expected) -> IdInfo:
    """18-character numbers built like a citizen ID number (GB 11643): resident ID, HMT permit,
    2023 foreigner's permanent residence card. Digits 7-14 are the birth date YYYYMMDD, the 17th
    digit is odd for men, the 18th is the MOD 11-2 check digit. The birth date is checked first,
    so an impossible or future date is reported as such even when the check digit is wrong too."""
    if len(number) != 18:
        raise _id_length_error(number, expected)
    if not _RESIDENT_RE.fullmatch(number):
        raise InvalidValue(
            "id_format",
            _msg(
                _(
                    "The ID number contains characters other than digits; %(expected)s "
                    "Check the number against the ID document."
                ),
                expected=expected,
            ),
            "id_number",
        )
    born = _birth_date_checked(number, 6, today)
    _check_mod11_2(number)
    return IdInfo(id_type, number, "M" if int(number[16]) % 2 else "F", born)


def _check_hmt(number: str, today: date) -> IdInfo:
    if len(number) == 18 and not number.startswith(_HMT_PREFIXES):
        raise InvalidValue(
            "id_format",
            _(
                "A Hong Kong/Macao/Taiwan residence permit number starts with 810000 (Hong Kong), "
                "820000 (Macao) or 830000 (Taiwan). Check the number; if it is a mainland "
                "resident ID, set the ID type to resident ID card."
            ),
            "id_number",
        )
    return _gb11643_style(number, IdType.HMT_PERMIT.value, today, _HMT_EXPECTED)


def _check_foreign(number: str, today: date) -> IdInfo:
    # 2023 card (issued from 2023-12-01): 18 digits built like a citizen ID number:
    # 9 (foreigner marker), 2 digits province of issue, 3 digits nationality (ISO 3166-1 numeric),
    # YYYYMMDD birth date at positions 7-14, 3-digit sequence (17th digit odd for men),
    # MOD 11-2 check digit (National Immigration Administration, 新版外国人永久居留身份证机读信息规则).
    if len(number) == 18 and number[0] == "9":
        return _gb11643_style(number, IdType.FOREIGN_PERMANENT.value, today, _FOREIGN_EXPECTED)
    # 2004/2017 card: 15 characters, 3 letters (nationality, ISO 3166-1 alpha-3), 4 digits place
    # of issue, YYMMDD birth date at positions 8-13, then 2 digits (sequence and a check digit).
    # Only the shape and the birth date are checked: the check-digit and sex rules of this old
    # format are not officially published, and a wrong guess would reject real cards.
    if _FOREIGN_2004_RE.fullmatch(number):
        born = _birth_date_checked(number, 7, today, two_digit_year=True)
        return IdInfo(IdType.FOREIGN_PERMANENT.value, number, "", born)
    if len(number) not in (15, 18):
        raise _id_length_error(number, _FOREIGN_EXPECTED)
    raise InvalidValue(
        "id_format",
        _msg(
            _("The ID number is not in a known format: %(expected)s Check it against the card."),
            expected=_FOREIGN_EXPECTED,
        ),
        "id_number",
    )


def _check_resident(number: str, today: date) -> IdInfo:
    if len(number) == 18:
        if number.startswith(_HMT_PREFIXES):
            return _check_hmt(number, today)
        if number[0] == "9":  # the 2023 foreigner's card: never a citizen number (those are 1-8)
            return _check_foreign(number, today)
    if len(number) == 15 and number.isdigit():
        raise InvalidValue(
            "id_format",
            _(
                "The ID number has 15 digits: that is a first-generation ID card number, no "
                "longer valid. Enter the 18-digit number from the resident's current ID card."
            ),
            "id_number",
        )
    return _gb11643_style(number, IdType.RESIDENT_ID.value, today, _RESIDENT_EXPECTED)


def _free_number(raw, id_type: str) -> str:
    """Passport and other documents: numbers kept as typed, less spaces, upper-case."""
    if isinstance(raw, float) and not isinstance(raw, bool):
        if not raw.is_integer() or abs(raw) >= 1e15:
            raise _numeric_cell_error()
        raw = int(raw)
    if isinstance(raw, int) and not isinstance(raw, bool):
        return str(raw)
    text = clean_text(raw).replace(" ", "")
    if _NUMERIC_CELL.fullmatch(text):
        whole, dot, zeros = text.partition(".")
        if dot and whole.isdigit() and len(whole) <= 15 and not zeros.strip("0"):
            text = whole  # 123456789.0: an integer Excel kept exactly
        else:
            raise _numeric_cell_error()
    if id_type == IdType.PASSPORT:
        return normalise_id_number(text)
    return text.translate(_OTHER_STRIP).upper()


def check_id(
    raw,
    *,
    id_type: str = IdType.RESIDENT_ID,
    raw_is_number: bool = False,
    today: date | None = None,
) -> IdInfo:
    """Validate an ID number of the given type and return what it tells.

    Checks in this order: empty (id_missing); stored as an Excel number (id_numeric_cell, for
    the digit-only documents); shape (id_format); birth date (id_birth_date); check digit
    (id_checksum). A "resident_id" number starting 81/82/83 comes back as an HMT permit, one
    starting with 9 as a 2023 foreigner's permanent residence card.
    """
    if id_type not in _ID_TYPE_VALUES:
        id_type = parse_id_type(id_type)
    plain = type(raw) is str and raw.isascii() and raw.isalnum()  # the common case, fast
    if not plain and not clean_text(raw):
        raise InvalidValue(
            "id_missing",
            _("The ID number is empty. Enter the number from the resident's ID document."),
            "id_number",
        )
    if today is None:
        today = date.today()

    if id_type in (IdType.PASSPORT, IdType.OTHER):
        number = _free_number(raw, id_type)
        pattern = _PASSPORT_RE if id_type == IdType.PASSPORT else _OTHER_RE
        if not pattern.fullmatch(number):
            if id_type == IdType.PASSPORT:
                message = _(
                    "A passport number has 3 to 30 letters and digits and nothing else. Check "
                    "the number against the passport's photo page."
                )
            else:
                message = _(
                    "A document number has 3 to 30 letters, digits, Chinese characters or "
                    "dashes and nothing else. Check the number against the document."
                )
            raise InvalidValue("id_format", message, "id_number")
        return IdInfo(str(id_type), number, "", None)

    if _is_numeric_cell(raw, raw_is_number):
        raise _numeric_cell_error()
    number = normalise_id_number(raw)
    if id_type == IdType.RESIDENT_ID:
        return _check_resident(number, today)
    if id_type == IdType.HMT_PERMIT:
        return _check_hmt(number, today)
    return _check_foreign(number, today)


# --------------------------------------------------------------------------------------------
# Mobile phone
# --------------------------------------------------------------------------------------------

_PHONE_STRIP = dict.fromkeys(map(ord, " -()/.\u2010\u2011\u2012\u2013\u2014\u2015\u2212"))
_EXCEL_FLOAT_TAIL = re.compile(r"\.0+$")
_MOBILE_TYPES = frozenset(
    {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)
# Chinese mobile ranges are allocated by prefix, and libphonenumber's CN mobile pattern never
# looks past the 5th digit (its deepest branch is 1740[0-5]\d{6}; 161 is only valid as 1610).
# So phonenumbers' verdict on any 11-digit number starting with 1 is a function of its first
# 5 digits, cached below. test_validation checks this for every prefix 10000-19999.
# (A 3-digit cache would be wrong for 161 and 174.)
_MOBILE_PREFIX_LEN = 5


def _phonenumbers_verdict(number: str, region: str = "CN") -> phonenumbers.PhoneNumber | None:
    """The slow path: the parsed number if phonenumbers calls it a valid Chinese mobile."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if (
        parsed.country_code == 86
        and phonenumbers.is_valid_number(parsed)
        and phonenumbers.number_type(parsed) in _MOBILE_TYPES
    ):
        return parsed
    return None


@lru_cache(maxsize=16_384)  # at most 10,000 keys (1xxxx)
def _mobile_prefix_ok(prefix: str) -> bool:
    sample = prefix + "0" * (11 - len(prefix))
    return _phonenumbers_verdict(sample) is not None


def _fast_mobile_ok(national: str) -> bool:
    """Verdict for 11 ASCII digits starting with 1, same as phonenumbers'."""
    return _mobile_prefix_ok(national[:_MOBILE_PREFIX_LEN])


def _phone_error(message) -> InvalidValue:
    return InvalidValue("phone_invalid", message, "phone")


_PHONE_HOW = _(
    "Enter the resident's 11-digit Chinese mobile number starting with 1, e.g. 13912345678; "
    "put landlines and other numbers in the note."
)


def check_mobile(raw) -> str:
    """A Chinese mobile number in E.164 ("+8613912345678"); "" when empty."""
    if type(raw) is str and len(raw) == 11 and raw.isascii() and raw.isdigit() and raw[0] == "1":
        national = raw  # the common case: skip all cleaning
    else:
        if raw is None:
            return ""
        if isinstance(raw, float) and not isinstance(raw, bool):
            if not raw.is_integer():
                raise _phone_error(
                    _msg(_("The phone number is not a whole number. %(how)s"), how=_PHONE_HOW)
                )
            raw = int(raw)
        text = clean_text(raw)
        if not text:
            return ""
        text = _EXCEL_FLOAT_TAIL.sub("", text).translate(_PHONE_STRIP)
        national = text
        if text.startswith("+86"):
            national = text[3:]
        elif text.startswith("0086"):
            national = text[4:]
        elif text.startswith("86") and len(text) == 13:
            national = text[2:]
        if not (len(national) == 11 and national.isascii() and national.isdigit()):
            return _check_mobile_slow(text, national)
        if national[0] != "1":
            return _check_mobile_slow(text, national)
    if not _fast_mobile_ok(national):
        raise _phone_error(
            _msg(
                _(
                    "The phone number starts with %(prefix)s, which is not a Chinese mobile "
                    "range, so a digit is probably mistyped. %(how)s"
                ),
                prefix=national[:_MOBILE_PREFIX_LEN],
                how=_PHONE_HOW,
            )
        )
    return "+86" + national


def _check_mobile_slow(text: str, national: str) -> str:
    parsed = _phonenumbers_verdict(text)
    if parsed is not None:
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    digits = "".join(ch for ch in national if ch.isdigit())
    foreign = text.startswith(("+", "00")) and not text.startswith(("+86", "0086"))
    if foreign:
        message = _msg(
            _(
                "This number has a country code other than +86, so it is not a mainland mobile. %(how)s"
            ),
            how=_PHONE_HOW,
        )
    elif digits.startswith("0"):
        message = _msg(
            _("This looks like a landline number (it starts with an area code). %(how)s"),
            how=_PHONE_HOW,
        )
    elif digits != national or not digits:
        message = _msg(
            _("The phone number contains characters other than digits. %(how)s"), how=_PHONE_HOW
        )
    else:
        message = _msg(
            ngettext_lazy(
                "The phone number has %(count)d digit; a Chinese mobile number has 11. %(how)s",
                "The phone number has %(count)d digits; a Chinese mobile number has 11. %(how)s",
                "count",
            ),
            count=len(digits),
            how=_PHONE_HOW,
        )
    raise _phone_error(message)


# --------------------------------------------------------------------------------------------
# Name
# --------------------------------------------------------------------------------------------

NAME_MAX_LENGTH = 50
_MIDDLE_DOT = "\u00b7"
# The dots people type in minority names (阿依古丽·买买提). Mapped before NFKC, because NFKC
# turns U+FF0E into an ASCII full stop and U+FF65 into U+30FB.
_DOT_VARIANTS = dict.fromkeys(
    map(ord, "\u2022\u2027\u30fb\uff65\u00b7\u2219\u22c5\uff0e\u0387\u16eb\u2e31"), _MIDDLE_DOT
)
_CJK = r"\u2e80-\u2fdf\u3005\u3007\u3021-\u3029\u3038-\u303b\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
# ASCII full stop typed between two Chinese characters.
_ASCII_DOT_IN_CJK = re.compile(rf"(?<=[{_CJK}])\s*\.\s*(?=[{_CJK}])")
# Spaces next to a middle dot, and runs of dots.
_DOT_RUN = re.compile(rf"\s*{_MIDDLE_DOT}[\s{_MIDDLE_DOT}]*")
_SPACE_IN_CJK = re.compile(rf"(?<=[{_CJK}]) (?=[{_CJK}])")


def check_name(raw) -> str:
    """A resident's name, tidied: spaces between Chinese characters removed, minority-name dots
    unified to U+00B7 "·" (leading or trailing dots dropped)."""
    text = raw.translate(_DOT_VARIANTS) if isinstance(raw, str) else raw
    name = clean_text(text)
    if _MIDDLE_DOT in name or "." in name:
        name = _ASCII_DOT_IN_CJK.sub(_MIDDLE_DOT, name)
        name = _DOT_RUN.sub(_MIDDLE_DOT, name).strip(_MIDDLE_DOT + " ")
    if " " in name:
        name = _SPACE_IN_CJK.sub("", name)
    if not name:
        raise InvalidValue(
            "name_missing",
            _("The name is empty. Enter the resident's name as on the ID document."),
            "name",
        )
    if not name.isprintable() and any(  # isprintable() is the fast pre-check
        unicodedata.category(ch) in ("Cc", "Cf") for ch in name
    ):
        raise InvalidValue(
            "name_invalid",
            _(
                "The name contains an invisible control character, probably pasted in from "
                "another program. Delete the cell and type the name again."
            ),
            "name",
        )
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidValue(
            "name_invalid",
            _msg(
                _(
                    "The name has %(count)d characters; at most %(max)d are allowed. Check that "
                    "the cell holds only the resident's name, not a note or a second person."
                ),
                count=len(name),
                max=NAME_MAX_LENGTH,
            ),
            "name",
        )
    return name


# --------------------------------------------------------------------------------------------
# Birth date and sex
# --------------------------------------------------------------------------------------------

_DATE_RE = re.compile(
    r"(?:(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?|(\d{4})(\d\d)(\d\d))"
    r"(?:[ T]00:00(?::00)?)?"  # str() of a midnight datetime, as spreadsheets hand them over
)


def _birth_date_error(message) -> InvalidValue:
    return InvalidValue("birth_date_invalid", message, "birth_date")


def check_birth_date(raw, *, today: date | None = None) -> date | None:
    """date/datetime, "1950-11-21", "1950/11/21", "1950.11.21", "19501121", "1950年11月21日".
    Empty -> None."""
    if raw is None:
        return None
    if isinstance(raw, datetime):
        born = raw.date()
    elif isinstance(raw, date):
        born = raw
    else:
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        text = clean_text(raw)
        if not text:
            return None
        text = _EXCEL_FLOAT_TAIL.sub("", text)
        match = _DATE_RE.fullmatch(text)
        if match is None:
            raise _birth_date_error(
                _msg(
                    _(
                        "“%(value)s” is not a date. Write the birth date as year-month-day, "
                        "e.g. 1950-11-21."
                    ),
                    value=text[:40],
                )
            )
        year, month, day = (int(g) for g in match.groups() if g is not None)
        try:
            born = date(year, month, day)
        except ValueError:
            raise _birth_date_error(
                _msg(
                    _(
                        "%(value)s is not a real date (check the month and the day). Write the "
                        "birth date as year-month-day, e.g. 1950-11-21."
                    ),
                    value=text,
                )
            ) from None
    if today is None:
        today = date.today()
    if born > today:
        raise _birth_date_error(
            _msg(
                _("The birth date %(date)s is in the future. Check the year."),
                date=born.isoformat(),
            )
        )
    if born.year < 1900:
        raise _birth_date_error(
            _msg(
                _("The birth date %(date)s is before 1900. Check the year."),
                date=born.isoformat(),
            )
        )
    return born


_SEX = {
    **dict.fromkeys(("男", "男性", "m", "male", "1"), "M"),
    **dict.fromkeys(("女", "女性", "f", "female", "2"), "F"),
}


def parse_sex(raw) -> str:
    """男/M/male/1 -> "M", 女/F/female/2 -> "F", empty -> ""."""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    key = _EXCEL_FLOAT_TAIL.sub("", clean_text(raw)).casefold()
    if not key:
        return ""
    try:
        return _SEX[key]
    except KeyError:
        raise InvalidValue(
            "sex_invalid",
            _msg(
                _("“%(value)s” is not a sex. Write 男 or 女 (M or F), or leave the cell empty."),
                value=clean_text(raw)[:20],
            ),
            "sex",
        ) from None
