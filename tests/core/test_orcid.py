from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.orcid import normalise_orcid, orcid_checksum

VALID = ["0000-0002-1825-0097", "0000-0001-5109-3700", "0000-0002-1694-233X"]


def hyphenate(digits: str) -> str:
    return "-".join(digits[i : i + 4] for i in range(0, 16, 4))


@pytest.mark.parametrize("orcid", VALID)
def test_valid_ids_are_kept(orcid: str) -> None:
    assert normalise_orcid(orcid) == orcid


@pytest.mark.parametrize("orcid", VALID)
def test_checksum_of_known_ids(orcid: str) -> None:
    digits = orcid.replace("-", "")
    assert orcid_checksum(digits[:15]) == digits[15]


@pytest.mark.parametrize(
    "raw",
    [
        "https://orcid.org/0000-0002-1825-0097",
        "http://orcid.org/0000-0002-1825-0097",
        "orcid.org/0000-0002-1825-0097",
        "HTTPS://ORCID.ORG/0000-0002-1825-0097",
        "https://www.orcid.org/0000-0002-1825-0097/",
        "0000000218250097",
        "https://orcid.org/0000000218250097",
        "  0000-0002-1825-0097\n",
        "\t https://orcid.org/0000-0002-1825-0097  ",
        "００００-０００２-１８２５-００９７",
    ],
)
def test_accepted_forms(raw: str) -> None:
    assert normalise_orcid(raw) == "0000-0002-1825-0097"


def test_lower_case_x_check_character() -> None:
    assert normalise_orcid("0000-0002-1694-233x") == "0000-0002-1694-233X"
    assert normalise_orcid("https://orcid.org/000000021694233x") == "0000-0002-1694-233X"


@pytest.mark.parametrize(
    "raw",
    [
        "0000-0002-1825-0098",
        "0000-0002-1825-009X",
        "0000-0001-5109-3701",
        "0000-0002-1694-2330",
        "0000-0002-1825-0079",
    ],
)
def test_bad_checksum(raw: str) -> None:
    assert normalise_orcid(raw) is None


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "0000-0002-1825-009",
        "0000-0002-1825-00977",
        "000000021825009",
        "00000002182500977",
        "0000-00021825-0097",
        "0000 0002 1825 0097",
        "0000-0002-1825-0097-",
        "X000-0002-1825-0097",
        "0000-0002-182X-0097",
        "abcd-efgh-ijkl-mnop",
        "https://example.org/0000-0002-1825-0097",
        "https://sandbox.orcid.org/0000-0002-1825-0097",
        "https://orcid.org/",
        "0000-0002-1825-0097\n/",
        "٠٠٠٠-٠٠٠٢-١٨٢٥-٠٠٩٧",
    ],
)
def test_bad_format(raw: str) -> None:
    assert normalise_orcid(raw) is None


@pytest.mark.parametrize("base", ["", "12345678901234", "1234567890123456", "12345678901234X"])
def test_checksum_needs_15_digits(base: str) -> None:
    with pytest.raises(ValueError, match="15 digits"):
        orcid_checksum(base)


digits15 = st.text(alphabet="0123456789", min_size=15, max_size=15)


@given(base=digits15)
def test_any_base_with_its_checksum_validates(base: str) -> None:
    orcid = hyphenate(base + orcid_checksum(base))
    assert normalise_orcid(orcid) == orcid


@given(base=digits15, position=st.integers(min_value=0, max_value=15), data=st.data())
def test_changing_any_single_character_breaks_it(
    base: str, position: int, data: st.DataObject
) -> None:
    digits = base + orcid_checksum(base)
    alphabet = "0123456789X" if position == 15 else "0123456789"
    replacement = data.draw(st.sampled_from([c for c in alphabet if c != digits[position]]))
    changed = digits[:position] + replacement + digits[position + 1 :]
    assert normalise_orcid(hyphenate(changed)) is None
