from __future__ import annotations

import re

import pytest

from core.regions import REGIONS, Region, is_valid_region, region_name, regions_of

CANADIAN_CODES = {
    "CA-AB",
    "CA-BC",
    "CA-MB",
    "CA-NB",
    "CA-NL",
    "CA-NS",
    "CA-NT",
    "CA-NU",
    "CA-ON",
    "CA-PE",
    "CA-QC",
    "CA-SK",
    "CA-YT",
}
TERRITORIES = {"CA-NT", "CA-NU", "CA-YT"}


def test_japan_has_47_prefectures_in_iso_order() -> None:
    prefectures = regions_of("JP")
    assert [region.code for region in prefectures] == [f"JP-{n:02d}" for n in range(1, 48)]
    assert prefectures[0].name_en == "Hokkaido"
    assert prefectures[12].name_en == "Tokyo"
    assert prefectures[-1].name_en == "Okinawa"


def test_canada_has_13_provinces_then_territories() -> None:
    codes = [region.code for region in regions_of("CA")]
    assert set(codes) == CANADIAN_CODES
    assert len(codes) == 13
    assert set(codes[-3:]) == TERRITORIES


def test_regions_holds_exactly_the_two_countries() -> None:
    assert len(REGIONS) == 60
    assert list(REGIONS) == [r.code for r in regions_of("JP") + regions_of("CA")]
    assert regions_of("US") == []


def test_codes_are_unique_and_match_their_keys() -> None:
    assert len({region.code for region in REGIONS.values()}) == len(REGIONS)
    for code, region in REGIONS.items():
        assert region.code == code
        assert code.startswith(region.country + "-")
        assert re.fullmatch(r"JP-\d{2}|CA-[A-Z]{2}", code)


def test_every_name_is_filled_in_and_trimmed() -> None:
    for region in REGIONS.values():
        for name in (region.name_en, region.name_ja, region.name_fr):
            assert name
            assert name == name.strip()


def test_japanese_names_carry_the_right_suffix() -> None:
    for region in regions_of("JP"):
        assert region.name_ja[-1] in "都道府県", region.code
    for region in regions_of("CA"):
        suffix = "準州" if region.code in TERRITORIES else "州"
        assert region.name_ja.endswith(suffix), region.code
        if region.code not in TERRITORIES:
            assert not region.name_ja.endswith("準州"), region.code


def test_the_special_prefectures() -> None:
    assert REGIONS["JP-13"].name_ja == "東京都"
    assert REGIONS["JP-01"].name_ja == "北海道"
    assert REGIONS["JP-26"].name_ja == "京都府"
    assert REGIONS["JP-27"].name_ja == "大阪府"
    others = [r for r in regions_of("JP") if r.code not in {"JP-01", "JP-13", "JP-26", "JP-27"}]
    assert all(region.name_ja.endswith("県") for region in others)


def test_english_names_have_no_macrons_and_french_ones_do() -> None:
    for region in regions_of("JP"):
        assert region.name_en.isascii(), region.code
    assert REGIONS["JP-13"].name_fr == "Tōkyō"
    assert REGIONS["JP-27"].name_fr == "Ōsaka"
    assert REGIONS["CA-QC"].name_en == "Quebec"
    assert REGIONS["CA-QC"].name_fr == "Québec"


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en", "British Columbia"),
        ("ja", "ブリティッシュコロンビア州"),
        ("fr", "Colombie-Britannique"),
        ("fr_CA", "Colombie-Britannique"),
        ("ja-JP", "ブリティッシュコロンビア州"),
        ("de", "British Columbia"),
        ("", "British Columbia"),
    ],
)
def test_name_by_locale(locale: str, expected: str) -> None:
    assert REGIONS["CA-BC"].name(locale) == expected
    assert region_name("CA-BC", locale) == expected


def test_region_name_of_an_unknown_code_is_the_code() -> None:
    assert region_name("JP-48", "ja") == "JP-48"
    assert region_name("", "fr") == ""


def test_region_name_in_each_language() -> None:
    assert region_name("JP-28", "en") == "Hyogo"
    assert region_name("JP-28", "ja") == "兵庫県"
    assert region_name("JP-28", "fr") == "Hyōgo"
    assert region_name("CA-NT", "fr") == "Territoires du Nord-Ouest"


def test_is_valid_region() -> None:
    assert is_valid_region("JP", "JP-47")
    assert is_valid_region("CA", "CA-YT")
    assert not is_valid_region("CA", "JP-47")
    assert not is_valid_region("JP", "CA-ON")
    assert not is_valid_region("JP", "JP-00")
    assert not is_valid_region("CA", "CA-XX")
    assert not is_valid_region("US", "US-CA")
    assert not is_valid_region("JP", "jp-13")


def test_regions_are_frozen() -> None:
    region: Region = REGIONS["JP-13"]
    with pytest.raises(AttributeError):
        region.name_en = "Edo"  # type: ignore[misc]
