"""The prefectures of Japan and the provinces and territories of Canada, in three languages.

Every region is keyed by its ISO 3166-2 code: ``JP-01`` (Hokkaido) to ``JP-47`` (Okinawa), and
``CA-AB`` ... ``CA-YT``. Stored data keeps the code; pages show ``region_name(code, locale)``.

Display order of ``REGIONS`` (and of ``regions_of``):

* Japan: the official ISO 3166-2 / JIS X 0401 order, ``JP-01`` to ``JP-47`` (north to south).
* Canada: the ten provinces, then the three territories, each group in alphabetical order of
  the English name (the usual order of Canadian federal forms). Within each group this is also
  ISO code order.

Spelling conventions:

* English: the names as Japan and Canada spell them in English, with no macrons or accents
  ("Tokyo", "Osaka", "Hyogo", "Kochi", "Oita", "Quebec").
* French: prefectures in Hepburn romanisation with macrons, as French references write them
  ("Hokkaidō", "Tōkyō", "Kyōto", "Ōsaka", "Hyōgo", "Kōchi", "Ōita"); provinces and territories
  by their official French names ("Colombie-Britannique", "Québec", "Territoires du Nord-Ouest").
  So a macron appears in French exactly where English drops it, and nowhere else.
* Japanese: prefectures with their suffix 都, 道, 府 or 県; provinces end in 州 and territories
  in 準州, written as on Japanese Wikipedia (no middle dot in one-place names such as
  ブリティッシュコロンビア州; a middle dot between the two places of
  ニューファンドランド・ラブラドール州).
"""

from __future__ import annotations

from dataclasses import dataclass

JAPAN = "JP"
CANADA = "CA"


@dataclass(frozen=True)
class Region:
    """One prefecture, province or territory."""

    code: str
    country: str  # "JP" or "CA"
    name_en: str
    name_ja: str
    name_fr: str

    def name(self, locale: str) -> str:
        """The name in ``locale`` ("ja", "fr", "en"; "fr_CA" or "ja-JP" also work).

        Any other locale gets the English name.
        """
        language = locale.replace("-", "_").split("_", 1)[0].strip().lower()
        if language == "ja":
            return self.name_ja
        if language == "fr":
            return self.name_fr
        return self.name_en


# (ISO suffix, English, Japanese, French), in display order.
_PREFECTURES: tuple[tuple[str, str, str, str], ...] = (
    ("01", "Hokkaido", "北海道", "Hokkaidō"),
    ("02", "Aomori", "青森県", "Aomori"),
    ("03", "Iwate", "岩手県", "Iwate"),
    ("04", "Miyagi", "宮城県", "Miyagi"),
    ("05", "Akita", "秋田県", "Akita"),
    ("06", "Yamagata", "山形県", "Yamagata"),
    ("07", "Fukushima", "福島県", "Fukushima"),
    ("08", "Ibaraki", "茨城県", "Ibaraki"),
    ("09", "Tochigi", "栃木県", "Tochigi"),
    ("10", "Gunma", "群馬県", "Gunma"),
    ("11", "Saitama", "埼玉県", "Saitama"),
    ("12", "Chiba", "千葉県", "Chiba"),
    ("13", "Tokyo", "東京都", "Tōkyō"),
    ("14", "Kanagawa", "神奈川県", "Kanagawa"),
    ("15", "Niigata", "新潟県", "Niigata"),
    ("16", "Toyama", "富山県", "Toyama"),
    ("17", "Ishikawa", "石川県", "Ishikawa"),
    ("18", "Fukui", "福井県", "Fukui"),
    ("19", "Yamanashi", "山梨県", "Yamanashi"),
    ("20", "Nagano", "長野県", "Nagano"),
    ("21", "Gifu", "岐阜県", "Gifu"),
    ("22", "Shizuoka", "静岡県", "Shizuoka"),
    ("23", "Aichi", "愛知県", "Aichi"),
    ("24", "Mie", "三重県", "Mie"),
    ("25", "Shiga", "滋賀県", "Shiga"),
    ("26", "Kyoto", "京都府", "Kyōto"),
    ("27", "Osaka", "大阪府", "Ōsaka"),
    ("28", "Hyogo", "兵庫県", "Hyōgo"),
    ("29", "Nara", "奈良県", "Nara"),
    ("30", "Wakayama", "和歌山県", "Wakayama"),
    ("31", "Tottori", "鳥取県", "Tottori"),
    ("32", "Shimane", "島根県", "Shimane"),
    ("33", "Okayama", "岡山県", "Okayama"),
    ("34", "Hiroshima", "広島県", "Hiroshima"),
    ("35", "Yamaguchi", "山口県", "Yamaguchi"),
    ("36", "Tokushima", "徳島県", "Tokushima"),
    ("37", "Kagawa", "香川県", "Kagawa"),
    ("38", "Ehime", "愛媛県", "Ehime"),
    ("39", "Kochi", "高知県", "Kōchi"),
    ("40", "Fukuoka", "福岡県", "Fukuoka"),
    ("41", "Saga", "佐賀県", "Saga"),
    ("42", "Nagasaki", "長崎県", "Nagasaki"),
    ("43", "Kumamoto", "熊本県", "Kumamoto"),
    ("44", "Oita", "大分県", "Ōita"),
    ("45", "Miyazaki", "宮崎県", "Miyazaki"),
    ("46", "Kagoshima", "鹿児島県", "Kagoshima"),
    ("47", "Okinawa", "沖縄県", "Okinawa"),
)

# Provinces, then territories; each group alphabetical in English (also ISO code order).
_PROVINCES_AND_TERRITORIES: tuple[tuple[str, str, str, str], ...] = (
    ("AB", "Alberta", "アルバータ州", "Alberta"),
    ("BC", "British Columbia", "ブリティッシュコロンビア州", "Colombie-Britannique"),
    ("MB", "Manitoba", "マニトバ州", "Manitoba"),
    ("NB", "New Brunswick", "ニューブランズウィック州", "Nouveau-Brunswick"),
    (
        "NL",
        "Newfoundland and Labrador",
        "ニューファンドランド・ラブラドール州",
        "Terre-Neuve-et-Labrador",
    ),
    ("NS", "Nova Scotia", "ノバスコシア州", "Nouvelle-Écosse"),
    ("ON", "Ontario", "オンタリオ州", "Ontario"),
    ("PE", "Prince Edward Island", "プリンスエドワードアイランド州", "Île-du-Prince-Édouard"),
    ("QC", "Quebec", "ケベック州", "Québec"),
    ("SK", "Saskatchewan", "サスカチュワン州", "Saskatchewan"),
    ("NT", "Northwest Territories", "ノースウエスト準州", "Territoires du Nord-Ouest"),
    ("NU", "Nunavut", "ヌナブト準州", "Nunavut"),
    ("YT", "Yukon", "ユーコン準州", "Yukon"),
)


def _build() -> dict[str, Region]:
    regions: dict[str, Region] = {}
    for country, rows in (
        (JAPAN, _PREFECTURES),
        (CANADA, _PROVINCES_AND_TERRITORIES),
    ):
        for suffix, name_en, name_ja, name_fr in rows:
            code = f"{country}-{suffix}"
            regions[code] = Region(code, country, name_en, name_ja, name_fr)
    return regions


#: Every region by ISO 3166-2 code, in display order (see the module docstring).
REGIONS: dict[str, Region] = _build()


def regions_of(country: str) -> list[Region]:
    """The regions of ``country`` ("JP" or "CA") in display order; empty for any other."""
    return [region for region in REGIONS.values() if region.country == country]


def region_name(code: str, locale: str) -> str:
    """The name of region ``code`` in ``locale``, or ``code`` itself when it is unknown."""
    region = REGIONS.get(code)
    return code if region is None else region.name(locale)


def is_valid_region(country: str, code: str) -> bool:
    """Whether ``code`` is a region of ``country``."""
    region = REGIONS.get(code)
    return region is not None and region.country == country
