"""Pure validation of the ledger's personal fields: no database."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

import pytest
from django.utils import translation
from stdnum.cn import ric

from shouwang.registry import validation as v
from shouwang.registry.validation import (
    PROBLEM_CODES,
    IdInfo,
    IdType,
    InvalidValue,
    check_birth_date,
    check_id,
    check_mobile,
    check_name,
    clean_text,
    normalise_id_number,
    parse_id_type,
    parse_sex,
)

TODAY = date(2025, 6, 1)

# GB 11643-1999 / ISO 7064 MOD 11-2, written out independently of the module under test.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def check_digit(first17: str) -> str:
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def with_check_digit(first17: str) -> str:
    return first17 + check_digit(first17)


def with_wrong_check_digit(first17: str) -> str:
    right = check_digit(first17)
    return first17 + ("0" if right != "0" else "1")


def code_of(func, *args, **kwargs) -> str:
    with pytest.raises(InvalidValue) as info:
        func(*args, **kwargs)
    return info.value.code


# ---------------------------------------------------------------------------------- helpers


def test_reference_check_digit_agrees_with_stdnum():
    # Guards the independent implementation above (and stdnum, which the module uses).
    for body in (
        "11010519491231002",
        "44052418800101001",
        "37021419900212729",
        "81000019901014217",
    ):
        assert check_digit(body) == ric.calc_check_digit(body + "?")
    assert check_digit("11010519491231002") == "X"  # the GB 11643 worked example


# ---------------------------------------------------------------------------------- clean_text


def test_clean_text():
    assert clean_text(None) == ""
    assert clean_text(12) == "12"
    assert clean_text("  a\u3000\u3000b\t\nc  ") == "a b c"
    assert clean_text("x\u200by\u200c\u200dz\ufeff\u2060") == "xyz"
    assert clean_text("ＡＢＣ１２３") == "ABC123"  # NFKC


# ---------------------------------------------------------------------------------- ID type


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("", "resident_id"),
        (None, "resident_id"),
        ("居民身份证", "resident_id"),
        (" 身份证 ", "resident_id"),
        ("二代身份证", "resident_id"),
        ("身份证号", "resident_id"),
        ("港澳台居民居住证", "hmt_permit"),
        ("台湾居民居住证", "hmt_permit"),
        ("居住证（港澳台）", "hmt_permit"),  # full-width brackets
        ("外国人永久居留身份证", "foreign_permanent"),
        ("永居证", "foreign_permanent"),
        ("护照", "passport"),
        ("PASSPORT", "passport"),
        ("其它", "other"),
        ("军官证", "other"),
        ("台胞证", "other"),
        ("hmt_permit", "hmt_permit"),
        ("Foreign_Permanent", "foreign_permanent"),
    ],
)
def test_parse_id_type(label, expected):
    assert parse_id_type(label) == expected


def test_parse_id_type_unknown():
    with pytest.raises(InvalidValue) as info:
        parse_id_type("驾驶证")
    assert (info.value.code, info.value.field) == ("id_type_unknown", "id_type")
    text = str(info.value.message)
    assert "驾驶证" in text and "Passport" in text


def test_id_type_choices():
    assert IdType.RESIDENT_ID == "resident_id"
    assert set(IdType.values) == {
        "resident_id",
        "hmt_permit",
        "foreign_permanent",
        "passport",
        "other",
    }


# ---------------------------------------------------------------------------------- ID numbers


def test_normalise_id_number():
    assert normalise_id_number("３７０２１４１９９００２１２７２９６") == "370214199002127296"
    assert normalise_id_number(" 310104 19411204\u30004262\u200b") == "310104194112044262"
    assert normalise_id_number("310104-19411204-426x") == "31010419411204426X"
    assert normalise_id_number("\t3101\u00a004\n") == "310104"


def test_resident_id_full_width_digits():
    info = check_id("３７０２１４１９９００２１２７２９６", today=TODAY)
    assert info == IdInfo("resident_id", "370214199002127296", "M", date(1990, 2, 12))


def test_resident_id_spaces_ideographic_space_and_zero_width():
    info = check_id(" 310104 19411204\u30004262\u200b", today=TODAY)
    assert info.number == "310104194112044262"
    assert info.sex == "F"  # 17th digit 6
    assert info.birth_date == date(1941, 12, 4)


def test_resident_id_lower_case_x():
    info = check_id("15010519501121944x", today=TODAY)
    assert info.number == "15010519501121944X"
    assert (info.sex, info.birth_date) == ("F", date(1950, 11, 21))


def test_unknown_region_codes_are_not_rejected():
    # stdnum's own validate() rejects codes missing from its table; the ledger must not.
    for region in ("150105", "310104", "370214", "610113", "420106", "110106", "320102"):
        number = with_check_digit(region + "19800101123")
        assert check_id(number, today=TODAY).number == number
    assert not ric.is_valid("810000199010142179")  # stdnum's table would have said no


def test_future_birth_date():
    # 2031-03-03 with a correct check digit: the date is the problem.
    assert check_digit("37021420310303289") == "3"
    assert code_of(check_id, "370214203103032893", today=TODAY) == "id_birth_date"
    # ... and with a wrong check digit as well, the date is still what is reported.
    assert check_digit("31011220310303289") != "3"
    assert code_of(check_id, "310112203103032893", today=TODAY) == "id_birth_date"


def test_future_is_relative_to_today():
    number = with_check_digit("31011220250602001")
    assert code_of(check_id, number, today=date(2025, 6, 1)) == "id_birth_date"
    assert check_id(number, today=date(2025, 6, 2)).birth_date == date(2025, 6, 2)


@pytest.mark.parametrize("birth", ["19811301", "19810230", "19810000", "18991231"])
def test_impossible_or_too_old_birth_date(birth):
    number = with_check_digit("320102" + birth + "123")
    assert code_of(check_id, number, today=TODAY) == "id_birth_date"


def test_wrong_check_digit():
    assert check_digit("32010219810101123") == "5"  # so ...1234 is wrong
    with pytest.raises(InvalidValue) as info:
        check_id("320102198101011234", today=TODAY)
    assert (info.value.code, info.value.field) == ("id_checksum", "id_number")
    assert check_id("320102198101011235", today=TODAY).sex == "M"
    # every wrong check digit is caught, X included
    for last in "0123456789X":
        number = "32010219810101123" + last
        if last == "5":
            assert check_id(number, today=TODAY).number == number
        else:
            assert code_of(check_id, number, today=TODAY) == "id_checksum"


@pytest.mark.parametrize(
    "raw",
    [
        "3.20102E+17",
        "3.20102e17",
        "3.20102198101011E+17",
        "320102198101011234.0",
        "320,102,198,101,011,000",
    ],
)
def test_numeric_cell_text(raw):
    assert code_of(check_id, raw, today=TODAY) == "id_numeric_cell"


def test_numeric_cell_flag_and_number_values():
    # Even a number that looks valid is refused when the cell was numeric: digits may be lost.
    assert code_of(check_id, "320102198101011235", raw_is_number=True) == "id_numeric_cell"
    assert code_of(check_id, 3.20102198101011e17) == "id_numeric_cell"
    assert code_of(check_id, 320102198101011235) == "id_numeric_cell"
    with pytest.raises(InvalidValue) as info:
        check_id("3.20102E+17", id_type="hmt_permit")
    assert "Text" in str(info.value.message)


def test_numeric_cell_checked_before_format():
    # a 17-digit float would otherwise be "id_format"
    assert code_of(check_id, "6.10113197906259E+16") == "id_numeric_cell"


def test_letter_e_inside_a_number_is_not_a_numeric_cell():
    assert code_of(check_id, "3201021981E1011234", today=TODAY) == "id_format"


@pytest.mark.parametrize("raw", [None, "", "   ", "\u3000\u200b"])
def test_id_missing(raw):
    with pytest.raises(InvalidValue) as info:
        check_id(raw)
    assert (info.value.code, info.value.field) == ("id_missing", "id_number")


def test_wrong_length_message_counts_characters():
    with pytest.raises(InvalidValue) as info:
        check_id("61011319790625904", today=TODAY)
    assert info.value.code == "id_format"
    with translation.override("en"):
        assert "17 characters" in str(info.value.message)
    assert code_of(check_id, "6101131979062590412", today=TODAY) == "id_format"


@pytest.mark.parametrize(
    "raw", ["3201021981010112X5", "32010219810101123Y", "320102198101011", "ABCDEFGHIJKLMNOPQR"]
)
def test_resident_id_format(raw):
    assert code_of(check_id, raw, today=TODAY) == "id_format"


def test_hmt_permit():
    assert check_digit("81000019901014217") == "9"
    info = check_id("810000199010142179", id_type="hmt_permit", today=TODAY)
    assert info == IdInfo("hmt_permit", "810000199010142179", "M", date(1990, 10, 14))
    for prefix in ("820000", "830000"):
        number = with_check_digit(prefix + "19850505002")
        assert check_id(number, id_type=IdType.HMT_PERMIT, today=TODAY).sex == "F"


def test_resident_id_with_hmt_prefix_becomes_hmt_permit():
    assert check_id("810000199010142179", today=TODAY).id_type == "hmt_permit"
    number = with_check_digit("83000019700101003")
    assert check_id(number, id_type="resident_id", today=TODAY).id_type == "hmt_permit"


def test_hmt_permit_errors():
    # a mainland number typed as an HMT permit
    assert code_of(check_id, "370214199002127296", id_type="hmt_permit") == "id_format"
    assert code_of(check_id, "81000019901014217", id_type="hmt_permit") == "id_format"
    assert (
        code_of(check_id, with_wrong_check_digit("81000019901014217"), id_type="hmt_permit")
        == "id_checksum"
    )
    assert (
        code_of(check_id, with_check_digit("82000020400101001"), id_type="hmt_permit", today=TODAY)
        == "id_birth_date"
    )


def test_foreign_permanent_2023():
    number = with_check_digit("93184019850315001")  # 9, province 31, nationality 840, 1985-03-15
    info = check_id(number, id_type="foreign_permanent", today=TODAY)
    assert info == IdInfo("foreign_permanent", number, "M", date(1985, 3, 15))
    # a resident-ID cell holding one is recognised (citizen numbers start with 1-8)
    assert check_id(number, today=TODAY).id_type == "foreign_permanent"
    assert (
        code_of(check_id, with_wrong_check_digit("93184019850315001"), id_type="foreign_permanent")
        == "id_checksum"
    )
    assert (
        code_of(check_id, with_check_digit("93184019851315001"), id_type="foreign_permanent")
        == "id_birth_date"
    )


def test_foreign_permanent_2004():
    info = check_id("usa 1100 650315 1 2", id_type="foreign_permanent", today=TODAY)
    assert info == IdInfo("foreign_permanent", "USA110065031512", "", date(1965, 3, 15))
    # two-digit year: the most recent century that is not in the future
    assert check_id("GBR310010030112", id_type="foreign_permanent", today=TODAY).birth_date == date(
        2010, 3, 1
    )
    assert code_of(check_id, "USA110065133112", id_type="foreign_permanent") == "id_birth_date"


@pytest.mark.parametrize(
    "raw", ["US1100650315123", "USA1100650315", "370214199002127296", "USA11006503151A"]
)
def test_foreign_permanent_format(raw):
    assert code_of(check_id, raw, id_type="foreign_permanent", today=TODAY) == "id_format"


def test_passport():
    assert check_id("E12345678", id_type="passport") == IdInfo("passport", "E12345678", "", None)
    assert check_id(" e1234 5678 ", id_type="passport").number == "E12345678"
    assert check_id(123456789.0, id_type="passport").number == "123456789"
    assert check_id("123456789.0", id_type="passport").number == "123456789"
    for bad in ("E1", "E123/4567", "护照123", "E" * 31):
        assert code_of(check_id, bad, id_type="passport") == "id_format"
    assert code_of(check_id, "1.23457E+8", id_type="passport") == "id_numeric_cell"


def test_other_document():
    info = check_id("军字第 123456-7 号", id_type="other")
    assert info == IdInfo("other", "军字第123456-7号", "", None)
    assert check_id("h1234 5678", id_type="其他").number == "H12345678"
    for bad in ("ab", "12#45", "x" * 31):
        assert code_of(check_id, bad, id_type="other") == "id_format"


def test_id_type_label_accepted_by_check_id():
    assert check_id("E12345678", id_type="护照").id_type == "passport"
    assert code_of(check_id, "E12345678", id_type="驾驶证") == "id_type_unknown"


def test_id_info_is_frozen():
    info = check_id("370214199002127296", today=TODAY)
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.sex = "F"


# ---------------------------------------------------------------------------------- phone


@pytest.mark.parametrize(
    "raw",
    [
        "13912345678",
        "+86 139-1234-5678",
        "86 13912345678",
        "0086 13912345678",
        "１３９１２３４５６７８",
        " 139 1234 5678 ",
        "139-1234-5678",
        "13912345678.0",
        13912345678.0,
        13912345678,
        "(+86) 139 1234 5678",
    ],
)
def test_mobile_accepted_forms(raw):
    assert check_mobile(raw) == "+8613912345678"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+86 186-3451-0626", "+8618634510626"),
        ("17765927826", "+8617765927826"),
        ("19962848826", "+8619962848826"),
        ("16512345678", "+8616512345678"),
        ("17405123456", "+8617405123456"),
    ],
)
def test_mobile_valid(raw, expected):
    assert check_mobile(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "1380013800",  # 10 digits
        "138001380001",  # 12 digits
        "021-64001234",  # Shanghai landline
        "010 6512 3456",
        "+1 650 253 0000",  # not +86
        "+852 9123 4567",
        "12012345678",  # no such range
        "17406123456",  # 174 is a mobile range only for 17400-17405
        "16112345678",  # 161 only as 1610
        "139123456a8",
        "1.39123E+10",
    ],
)
def test_mobile_invalid(raw):
    with pytest.raises(InvalidValue) as info:
        check_mobile(raw)
    assert (info.value.code, info.value.field) == ("phone_invalid", "phone")
    assert "11" in str(info.value.message)  # tells the user what a mobile number looks like


@pytest.mark.parametrize("raw", [None, "", "  ", "\u3000"])
def test_mobile_empty(raw):
    assert check_mobile(raw) == ""


def test_landline_message_says_where_to_put_it():
    with pytest.raises(InvalidValue) as info:
        check_mobile("021-64001234")
    with translation.override("en"):
        text = str(info.value.message)
    assert "landline" in text and "note" in text


def _slow_verdict(national: str) -> bool:
    return v._phonenumbers_verdict(national) is not None


def test_fast_path_agrees_with_phonenumbers_for_every_3_digit_prefix():
    verdicts = {}
    for prefix in range(100, 200):
        sample = f"{prefix}12345678"
        fast = v._fast_mobile_ok(sample)
        assert fast == _slow_verdict(sample), sample
        verdicts[prefix] = fast
        # and check_mobile itself says the same
        if fast:
            assert check_mobile(sample) == "+86" + sample
        else:
            assert code_of(check_mobile, sample) == "phone_invalid"
    assert verdicts[139] and verdicts[199] and not verdicts[120]  # the test can fail


def test_fast_path_agrees_with_phonenumbers_for_every_5_digit_prefix():
    # The cache is keyed on the first 5 digits: prove the verdict never depends on later ones
    # (it would not be so for a 3-digit key: 1610 and 17400-17405 are split ranges).
    for prefix in range(10000, 20000):
        head = str(prefix)
        fast = v._fast_mobile_ok(head + "000000")
        for tail in ("000000", "999999", "505050", "123456"):
            assert _slow_verdict(head + tail) == fast, head + tail


def test_fast_path_is_taken_for_plain_numbers(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("slow path used")

    v._mobile_prefix_ok.cache_clear()
    check_mobile("13912345678")  # fills the cache for 13912
    monkeypatch.setattr(v, "_phonenumbers_verdict", boom)
    assert check_mobile("13912345679") == "+8613912345679"
    assert check_mobile("+86 139-1234-0000") == "+8613912340000"


# ---------------------------------------------------------------------------------- name


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("阿依古丽•买买提", "阿依古丽·买买提"),
        ("阿依古丽‧买买提", "阿依古丽·买买提"),
        ("阿依古丽・买买提", "阿依古丽·买买提"),
        ("阿依古丽･买买提", "阿依古丽·买买提"),
        ("阿依古丽∙买买提", "阿依古丽·买买提"),
        ("阿依古丽⋅买买提", "阿依古丽·买买提"),
        ("阿依古丽．买买提", "阿依古丽·买买提"),
        ("阿依古丽\u0387买买提", "阿依古丽·买买提"),
        ("阿依古丽\u16eb买买提", "阿依古丽·买买提"),
        ("阿依古丽\u2e31买买提", "阿依古丽·买买提"),
        ("阿依古丽.买买提", "阿依古丽·买买提"),
        ("阿依古丽 · 买买提", "阿依古丽·买买提"),
        ("王 小 明", "王小明"),
        ("王\u3000小明\u200b", "王小明"),
        (" John  Smith ", "John Smith"),
        ("J. R. Smith", "J. R. Smith"),
        ("王 John", "王 John"),
    ],
)
def test_check_name(raw, expected):
    assert check_name(raw) == expected


@pytest.mark.parametrize("raw", [None, "", "  ", "\u200b", "\u3000"])
def test_name_missing(raw):
    with pytest.raises(InvalidValue) as info:
        check_name(raw)
    assert (info.value.code, info.value.field) == ("name_missing", "name")


@pytest.mark.parametrize("raw", ["张\x07三", "张\u200e三", "张\x00三", "张" * 51])
def test_name_invalid(raw):
    assert code_of(check_name, raw) == "name_invalid"


def test_name_keeps_rare_characters():
    # CJK extension B and private-use characters (local encodings of rare name characters)
    assert check_name("王\U00020000明") == "王\U00020000明"
    assert check_name("王\ue000明") == "王\ue000明"
    assert check_name("张" * 50) == "张" * 50


# ---------------------------------------------------------------------------------- birth date


@pytest.mark.parametrize(
    "raw",
    [
        date(1950, 11, 21),
        datetime(1950, 11, 21, 0, 0),
        "1950-11-21",
        "1950/11/21",
        "1950.11.21",
        "19501121",
        "1950年11月21日",
        "１９５０年１１月２１日",
        "1950-11-21 00:00:00",
        19501121,
    ],
)
def test_birth_date_forms(raw):
    assert check_birth_date(raw, today=TODAY) == date(1950, 11, 21)


def test_birth_date_single_digit_month_and_day():
    assert check_birth_date("1950/1/2", today=TODAY) == date(1950, 1, 2)


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_birth_date_empty(raw):
    assert check_birth_date(raw) is None


@pytest.mark.parametrize(
    "raw", ["1950-13-01", "1950-02-30", "next week", "21/11/1950", "2025-06-02", "1899-12-31"]
)
def test_birth_date_invalid(raw):
    with pytest.raises(InvalidValue) as info:
        check_birth_date(raw, today=TODAY)
    assert (info.value.code, info.value.field) == ("birth_date_invalid", "birth_date")


def test_birth_date_today_is_allowed():
    assert check_birth_date("2025-06-01", today=TODAY) == TODAY


# ---------------------------------------------------------------------------------- sex


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("男", "M"),
        ("M", "M"),
        ("m", "M"),
        ("Male", "M"),
        ("1", "M"),
        (1, "M"),
        (1.0, "M"),
        ("女", "F"),
        ("F", "F"),
        ("FEMALE", "F"),
        ("2", "F"),
        (2, "F"),
        ("", ""),
        (None, ""),
    ],
)
def test_parse_sex(raw, expected):
    assert parse_sex(raw) == expected


@pytest.mark.parametrize("raw", ["x", "3", "unknown", "男女"])
def test_parse_sex_invalid(raw):
    with pytest.raises(InvalidValue) as info:
        parse_sex(raw)
    assert (info.value.code, info.value.field) == ("sex_invalid", "sex")


# ---------------------------------------------------------------------------------- messages


def test_problem_codes_cover_every_code():
    assert set(PROBLEM_CODES) == {
        "name_missing",
        "name_invalid",
        "id_missing",
        "id_format",
        "id_checksum",
        "id_birth_date",
        "id_numeric_cell",
        "id_type_unknown",
        "phone_invalid",
        "birth_date_invalid",
        "sex_invalid",
    }
    assert all(str(text) for text in PROBLEM_CODES.values())


def test_messages_are_lazy_and_formatted_at_str(monkeypatch):
    calls = []
    real = v._render

    def spy(template, params):
        calls.append(params)
        return real(template, params)

    monkeypatch.setattr(v, "_render_lazy", v.lazy(spy, str))
    with pytest.raises(InvalidValue) as info:
        check_id("61011319790625904")
    assert not isinstance(info.value.message, str)  # a lazy proxy
    assert calls == []  # not formatted (nor translated) yet
    with translation.override("en"):
        text = str(info.value.message)
    assert calls == [{"count": 17, "expected": v._RESIDENT_EXPECTED}]
    assert "17 characters" in text


def test_every_error_message_says_how_to_fix():
    cases = [
        (check_id, ("",), {}),
        (check_id, ("61011319790625904",), {}),
        (check_id, ("320102198101011234",), {}),
        (check_id, ("370214203103032893",), {"today": TODAY}),
        (check_id, ("3.20102E+17",), {}),
        (check_id, ("E1",), {"id_type": "passport"}),
        (parse_id_type, ("驾驶证",), {}),
        (check_mobile, ("1380013800",), {}),
        (check_mobile, ("+1 650 253 0000",), {}),
        (check_name, ("",), {}),
        (check_name, ("张\x07三",), {}),
        (check_birth_date, ("1950-13-01",), {}),
        (parse_sex, ("x",), {}),
    ]
    verbs = ("Check", "Compare", "Enter", "Set", "Write", "Delete", "Use")
    with translation.override("en"):
        for func, args, kwargs in cases:
            with pytest.raises(InvalidValue) as info:
                func(*args, **kwargs)
            text = str(info.value.message)
            assert any(verb in text for verb in verbs), (func.__name__, args, text)
            assert info.value.code in PROBLEM_CODES
