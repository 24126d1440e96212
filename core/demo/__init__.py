"""Fixed ingredients of the demo world: institutions, names and framing sentences.

Institutions are real places where such research happens; every person, startup and
profile text in the demo is fictional.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

# (name, kind, region code, staff count, founded year)
JP_INSTITUTIONS = [
    ("The University of Tokyo", "university", "JP-13", 8000, 1877),
    ("Kyoto University", "university", "JP-26", 5500, 1897),
    ("Osaka University", "university", "JP-27", 6500, 1931),
    ("Tohoku University", "university", "JP-04", 6300, 1907),
    ("Nagoya University", "university", "JP-23", 4600, 1939),
    ("Kyushu University", "university", "JP-40", 4500, 1911),
    ("Hokkaido University", "university", "JP-01", 4000, 1876),
    ("Institute of Science Tokyo", "university", "JP-13", 3400, 1881),
    ("Keio University", "university", "JP-13", 3800, 1858),
    ("University of Tsukuba", "university", "JP-08", 4700, 1973),
    ("Kobe University", "university", "JP-28", 3000, 1949),
    ("Hiroshima University", "university", "JP-34", 3300, 1949),
    ("Okinawa Institute of Science and Technology", "university", "JP-47", 1000, 2011),
    (
        "National Institute of Advanced Industrial Science and Technology (AIST)",
        "public_research_institute",
        "JP-08",
        2900,
        2001,
    ),
    ("RIKEN", "public_research_institute", "JP-11", 3500, 1917),
    ("National Institute for Materials Science", "public_research_institute", "JP-08", 1500, 2001),
]

CA_INSTITUTIONS = [
    ("University of Toronto", "university", "CA-ON", 15000, 1827),
    ("The University of British Columbia", "university", "CA-BC", 16000, 1908),
    ("McGill University", "university", "CA-QC", 12000, 1821),
    ("Université de Montréal", "university", "CA-QC", 9000, 1878),
    ("University of Waterloo", "university", "CA-ON", 7000, 1957),
    ("University of Alberta", "university", "CA-AB", 9500, 1908),
    ("University of Calgary", "university", "CA-AB", 8000, 1966),
    ("McMaster University", "university", "CA-ON", 7500, 1887),
    ("Université Laval", "university", "CA-QC", 6500, 1663),
    ("Dalhousie University", "university", "CA-NS", 3500, 1818),
    ("University of Saskatchewan", "university", "CA-SK", 4500, 1907),
    ("Université de Sherbrooke", "university", "CA-QC", 4000, 1954),
    ("Simon Fraser University", "university", "CA-BC", 5000, 1965),
    ("Memorial University of Newfoundland", "university", "CA-NL", 3500, 1925),
    ("National Research Council Canada", "public_research_institute", "CA-ON", 4000, 1916),
    (
        "Institut national de la recherche scientifique",
        "public_research_institute",
        "CA-QC",
        800,
        1969,
    ),
]

JP_REGIONS_FOR_STARTUPS = ["JP-13", "JP-13", "JP-14", "JP-27", "JP-26", "JP-23", "JP-40", "JP-08"]
CA_REGIONS_FOR_STARTUPS = ["CA-ON", "CA-ON", "CA-QC", "CA-QC", "CA-BC", "CA-AB", "CA-NS", "CA-MB"]

JP_STARTUP_STEMS = [
    "Sora",
    "Hikari",
    "Mirai",
    "Kizuna",
    "Tsubasa",
    "Aozora",
    "Kazami",
    "Minato",
    "Shinka",
    "Hoshi",
    "Akatsuki",
    "Kagayaki",
    "Takumi",
    "Nagare",
    "Yamabiko",
    "Tsumugi",
    "Kirameki",
    "Hibiki",
    "Asahi",
    "Kumo",
]
CA_STARTUP_STEMS = [
    "Northwind",
    "Boreal",
    "Aurora",
    "Cascade",
    "Laurentian",
    "Maple Leaf",
    "Tundra",
    "Fundy",
    "Algonquin",
    "Prairie",
    "Coastline",
    "Chinook",
    "Ridgeline",
    "Muskoka",
    "Outremont",
    "Klondike",
    "Polaris",
    "Beacon",
    "Granite",
    "Saint-Laurent",
]
STARTUP_SUFFIXES = {
    "quantum": ["Quantum", "Qubits"],
    "semiconductors": ["Semiconductor", "Devices"],
    "artificial_intelligence": ["AI", "Intelligence"],
    "advanced_manufacturing": ["Manufacturing", "Robotics"],
    "clean_technology": ["Energy", "CleanTech"],
    "life_sciences": ["Bio", "Therapeutics"],
    "other": ["Technologies", "Systems"],
}

JP_FAMILY = [
    "Sato",
    "Suzuki",
    "Takahashi",
    "Tanaka",
    "Watanabe",
    "Ito",
    "Yamamoto",
    "Nakamura",
    "Kobayashi",
    "Kato",
    "Yoshida",
    "Yamada",
    "Sasaki",
    "Yamaguchi",
    "Matsumoto",
    "Inoue",
    "Kimura",
    "Hayashi",
    "Shimizu",
    "Mori",
    "Ikeda",
    "Hashimoto",
    "Ishikawa",
    "Ogawa",
]
JP_GIVEN = [
    "Haruto",
    "Yui",
    "Sota",
    "Aoi",
    "Ren",
    "Hina",
    "Kaito",
    "Mei",
    "Yuto",
    "Sakura",
    "Riku",
    "Emi",
    "Takumi",
    "Nanami",
    "Daiki",
    "Yuna",
    "Kenji",
    "Ayaka",
    "Shota",
    "Misaki",
]
CA_FAMILY = [
    "Tremblay",
    "Gagnon",
    "Roy",
    "Côté",
    "Bouchard",
    "Smith",
    "Brown",
    "Wilson",
    "MacDonald",
    "Campbell",
    "Singh",
    "Chen",
    "Nguyen",
    "Patel",
    "Martin",
    "Lee",
    "Morrison",
    "Leblanc",
    "Fraser",
    "Kaur",
    "Pelletier",
    "Anderson",
    "Wong",
    "Lavoie",
]
CA_GIVEN = [
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Chloé",
    "Félix",
    "Amelia",
    "Lucas",
    "Maya",
    "Ethan",
    "Léa",
    "William",
    "Sofia",
    "Gabriel",
    "Ava",
    "Samuel",
    "Zoé",
    "Owen",
    "Priya",
    "Mathieu",
]

# Closing sentences saying what a profile seeks; several per kind and language so the
# demo texts do not share one template.
SEEKING_SENTENCES = {
    ("researcher", "en"): [
        "We are looking for a {other} partner to co-apply for a joint research grant.",
        "We would welcome a visiting researcher from {other} and can share lab time.",
        "We seek an industrial partner in {other} to validate the approach at scale.",
        "Our team is open to a researcher exchange and joint supervision of students.",
    ],
    ("researcher", "fr"): [
        "Nous cherchons un partenaire au {other} pour une demande de subvention conjointe.",
        "Nous accueillerions volontiers un chercheur invité du {other}.",
        "Nous souhaitons valider l'approche avec un partenaire industriel au {other}.",
    ],
    ("researcher", "ja"): [
        "{other}の研究機関との共同研究および共同申請を希望しています。",
        "{other}からの研究者の受け入れや学生の相互派遣に関心があります。",
        "{other}の企業と連携し、実環境での検証を進めたいと考えています。",
    ],
    ("startup", "en"): [
        "We are raising a seed round and want a research partner in {other}.",
        "We look for a university lab in {other} to co-develop the next product generation.",
        "We want pilot customers and a co-development partner in {other}.",
        "We are interested in licensing technology from a lab in {other}.",
    ],
    ("startup", "fr"): [
        "Nous cherchons un laboratoire au {other} pour codévelopper la prochaine génération.",
        "Nous souhaitons trouver des clients pilotes et un partenaire de R-D au {other}.",
        "Nous envisageons une licence de technologie auprès d'un laboratoire au {other}.",
    ],
    ("startup", "ja"): [
        "{other}の大学研究室との共同開発パートナーを探しています。",
        "{other}市場での実証パートナーと顧客を求めています。",
        "{other}の研究機関からの技術ライセンスに関心があります。",
    ],
}
# Verbs that open a product line written without its subject ("Sells a ...").
PRODUCT_VERBS = {
    "en": frozenset(
        [
            "Sells",
            "Develops",
            "Pilots",
            "Licenses",
            "Offers",
            "Builds",
            "Supplies",
            "Provides",
            "Designs",
            "Runs",
            "Rents",
            "Makes",
            "Manufactures",
            "Operates",
            "Deploys",
            "Markets",
            "Produces",
            "Installs",
            "Delivers",
        ]
    ),
    "fr": frozenset(
        [
            "Concède",
            "Met",
            "Conçoit",
            "Vend",
            "Fournit",
            "Offre",
            "Développe",
            "Propose",
            "Commercialise",
            "Exploite",
            "Loue",
            "Fabrique",
            "Teste",
            "Déploie",
            "Produit",
            "Installe",
            "Assure",
            "Réalise",
            "Pilote",
            "Livre",
        ]
    ),
}

OTHER_COUNTRY_NAMES = {
    ("JP", "en"): "Canada",
    ("JP", "fr"): "Canada",
    ("JP", "ja"): "カナダ",
    ("CA", "en"): "Japan",
    ("CA", "fr"): "Japon",
    ("CA", "ja"): "日本",
}

FIELD_CODES = [
    "advanced_manufacturing",
    "artificial_intelligence",
    "clean_technology",
    "life_sciences",
    "quantum",
    "semiconductors",
    "other",
]


def load_topics() -> list[dict[str, Any]]:
    """Every demo topic, field by field in MOC order, as shipped in core/demo/topics/."""
    topics: list[dict[str, Any]] = []
    folder = resources.files("core.demo").joinpath("topics")
    for code in FIELD_CODES:
        data = json.loads(folder.joinpath(f"{code}.json").read_text(encoding="utf-8"))
        topics.extend(data)
    return topics
