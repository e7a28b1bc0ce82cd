"""The gazetteer: a place name as a referral gives it (city, region, country) → a district.

Every district's English and Urdu name matches itself; `fixtures/gazetteer.json` adds other
spellings, old names and cantonments. A name that is not there, or a place outside Pakistan,
gives None: the caller routes it to a national queue for a person to decide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from muhafiz.catalogue.models import District
from muhafiz.catalogue.shipped import read_fixture

_SPACES = re.compile(r"[\s,._\-]+")


def place_key(name: str) -> str:
    """A place name compared without case, punctuation or repeated spaces."""
    return _SPACES.sub(" ", (name or "").strip().lower()).strip()


@dataclass(frozen=True)
class Gazetteer:
    """Place keys → district ids, read once (an import of 100,000 referrals asks many times)."""

    districts: dict[str, int]

    @classmethod
    def load(cls) -> Gazetteer:
        by_code: dict[str, int] = {}
        names: dict[str, int] = {}
        for pk, code, name, name_ur in District.objects.values_list(
            "pk", "code", "name", "name_ur"
        ):
            by_code[code] = pk
            for value in (name, name_ur):
                if value:
                    names.setdefault(place_key(value), pk)
        for row in read_fixture("gazetteer")["places"]:
            listed = by_code.get(row["district"])
            if listed is not None:
                names.setdefault(place_key(row["name"]), listed)
        return cls(names)

    def district_for(self, city: str = "", region: str = "", country_code: str = "") -> int | None:
        """The district id of the place, the city first, then the region; None if unknown or
        outside Pakistan."""
        country = (country_code or "").strip().upper()
        if country and country not in ("PK", "PAK"):
            return None
        for name in (city, region):
            found = self.districts.get(place_key(name))
            if found is not None:
                return found
        return None
