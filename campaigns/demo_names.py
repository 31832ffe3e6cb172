"""Made-up but plausible names for demo brands and campaigns.

Every name is drawn from a `random.Random` the caller owns, so a seed gives the same
names. Brand names must be unique: `brand_names_unique` checks its candidates against
the table; campaign names need not be, but are kept distinct within a brand.
"""

import random

from brands.models import Brand

# Two-part brand names ("Northwind Coffee", "Harbor & Pine Outfitters"): 40 x 40 first
# and second parts, and a few forms, give over 6,000 names before a number is added.
_BRAND_FIRST = (
    "Acme", "Alder", "Aspen", "Blue Heron", "Bluebird", "Brightwater", "Cedar", "Copperleaf",
    "Driftwood", "Evergreen", "Fairhaven", "Fieldstone", "Foxglove", "Golden Gate", "Granite",
    "Harbor & Pine", "Highland", "Ironwood", "Juniper", "Kestrel", "Lakeside", "Larkspur",
    "Maple & Main", "Meridian", "Northwind", "Oakridge", "Old Mill", "Pacific Crest", "Pinecone",
    "Redwood", "Riverbend", "Saltbox", "Silver Birch", "Stonebridge", "Summit", "Sunfield",
    "Thistle", "Tidewater", "Willow Creek", "Wildflower",
)  # fmt: skip
_BRAND_SECOND = (
    "Apparel", "Bakehouse", "Bicycles", "Botanicals", "Brewing", "Candles", "Ceramics", "Coffee",
    "Cosmetics", "Creamery", "Cycles", "Denim", "Eyewear", "Footwear", "Furniture", "Games",
    "Goods", "Grocers", "Home", "Kitchen", "Knitwear", "Leather", "Lighting", "Luggage", "Motors",
    "Nutrition", "Outdoor", "Outfitters", "Paper", "Pet Supply", "Provisions", "Skincare",
    "Sports", "Supply", "Tea", "Textiles", "Toys", "Travel", "Watches", "Wines",
)  # fmt: skip
_BRAND_FORMS = ("{}", "{}", "{}", "{} Co.", "{} Group", "{} & Sons", "{} Collective")

_CAMPAIGN_EVENTS = (
    "Always On", "Back to School", "Black Friday", "Brand Awareness", "Clearance", "Cyber Week",
    "Gift Guide", "Holiday", "Loyalty", "New Arrivals", "New Customers", "Product Launch",
    "Retargeting", "Spring Sale", "Summer Sale", "Winter Sale",
)  # fmt: skip
_CAMPAIGN_CHANNELS = ("Display", "Search", "Shopping", "Social", "Video", "Connected TV", "Audio", "Native")

# The market a campaign targets, read from its brand's zone so names and clocks agree.
_MARKET_BY_ZONE_PREFIX = {
    "America/New_York": "US East",
    "America/Los_Angeles": "US West",
    "America/Sao_Paulo": "BR",
    "Europe/London": "UK",
    "Europe/Berlin": "DE",
    "Asia/Kolkata": "IN",
    "Asia/Kathmandu": "NP",
    "Asia/Tokyo": "JP",
    "Australia/": "AU",
    "Pacific/Auckland": "NZ",
    "Pacific/Honolulu": "US Hawaii",
}

# Candidates checked per query (SQLite allows 999 parameters in older builds).
_NAME_CHECK_CHUNK = 900


def _brand_name(rng: random.Random, *, numbered: bool) -> str:
    name = rng.choice(_BRAND_FORMS).format(f"{rng.choice(_BRAND_FIRST)} {rng.choice(_BRAND_SECOND)}")
    # Once the plain names run short, a number (as in "Summit Coffee 12") keeps them unique.
    return f"{name} {rng.randrange(2, 1000)}" if numbered else name


def brand_names_unique(rng: random.Random, count: int) -> list[str]:
    """`count` brand names, distinct and none of them already in the table.

    Candidates are checked against the table in one query per round (in chunks); a
    rerun with the same seed collides on the first round and draws again. From the
    third round on, names carry a number, so many reruns still find free names.
    """
    names: list[str] = []
    chosen: set[str] = set()
    rounds = 0
    while len(names) < count:
        rounds += 1
        candidates: list[str] = []
        attempts = 0
        while len(candidates) < count - len(names) and attempts < 20 * count:
            attempts += 1
            name = _brand_name(rng, numbered=rounds >= 3)
            if name not in chosen:
                chosen.add(name)
                candidates.append(name)
        taken: set[str] = set()
        for start in range(0, len(candidates), _NAME_CHECK_CHUNK):
            chunk = candidates[start : start + _NAME_CHECK_CHUNK]
            taken.update(Brand.objects.filter(name__in=chunk).values_list("name", flat=True))
        names.extend(name for name in candidates if name not in taken)
    return names


def market_of(timezone_name: str) -> str:
    for prefix, market in _MARKET_BY_ZONE_PREFIX.items():
        if timezone_name.startswith(prefix):
            return market
    return "Global"


class CampaignNamer:
    """Names like "Black Friday · Search · US East", distinct within each brand."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._used: dict[int, set[str]] = {}

    def name(self, brand_key: int, timezone_name: str) -> str:
        event, channel = self._rng.choice(_CAMPAIGN_EVENTS), self._rng.choice(_CAMPAIGN_CHANNELS)
        base = f"{event} · {channel} · {market_of(timezone_name)}"
        used = self._used.setdefault(brand_key, set())
        name, copy = base, 1
        while name in used:
            copy += 1
            name = f"{base} {copy}"
        used.add(name)
        return name
