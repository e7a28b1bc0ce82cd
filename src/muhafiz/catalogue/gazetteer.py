"""The gazetteer: a place name as a referral gives it (city, region, country) → a district.

Every district's English and Urdu name matches itself; the administrators' table
`GazetteerPlace` (seeded from `fixtures/gazetteer.json`, edited and imported on the catalogue
pages) adds other spellings, old names and cantonments. A name that is not there, an inactive
place, or a place outside Pakistan gives None: the caller routes it to a national queue for a
person to decide.
"""

from __future__ import annotations

from dataclasses import dataclass

from muhafiz.catalogue.models import District, GazetteerPlace, place_key

__all__ = ["Gazetteer", "place_key"]


@dataclass(frozen=True)
class Gazetteer:
    """Place keys → district ids, read once (an import of 100,000 referrals asks many times)."""

    districts: dict[str, int]

    @classmethod
    def load(cls) -> Gazetteer:
        names: dict[str, int] = {}
        for pk, name, name_ur in District.objects.values_list("pk", "name", "name_ur"):
            for value in (name, name_ur):
                if value:
                    names.setdefault(place_key(value), pk)
        for key, district_id in GazetteerPlace.objects.filter(active=True).values_list(
            "key", "district_id"
        ):
            names.setdefault(key, district_id)
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
