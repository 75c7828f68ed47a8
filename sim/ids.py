"""Identifiers: seeded ones that repeat across runs, random ones that must not.

Device ids, friendly names and the developer's user id come from `SIM_SEED`, so a
test or a person sees the same fleet every run. Tokens, secrets and claim codes are
drawn from `secrets`, since a guessable credential would be a bad habit to model.
"""

from __future__ import annotations

import hashlib
import random
import secrets

# Particle names new devices adjective_noun; these lists keep the same spirit.
ADJECTIVES = (
    "amber", "brave", "cosmic", "dapper", "eager", "fuzzy", "gentle", "hasty",
    "icy", "jolly", "keen", "lucky", "mellow", "nimble", "orange", "plucky",
    "quiet", "rusty", "sunny", "tidy", "upbeat", "vivid", "witty", "zesty",
)  # fmt: skip
NOUNS = (
    "badger", "comet", "dragon", "falcon", "gecko", "heron", "koala", "lynx",
    "marmot", "narwhal", "otter", "panda", "quokka", "raven", "salmon", "tapir",
    "urchin", "walrus", "yak", "zebra", "wizard", "ninja", "pirate", "robot",
)  # fmt: skip
# Gen 3 device ids on the real cloud start with this vendor-like prefix.
DEVICE_ID_PREFIX = "e00fce68"


class SeededNames:
    """Repeatable ids and names for one seed; each call draws the next one."""

    def __init__(self, seed: str) -> None:
        self._random = random.Random(f"{seed}/names")
        self._used_names: set[str] = set()

    def device_id(self) -> str:
        return DEVICE_ID_PREFIX + self._hex(24 - len(DEVICE_ID_PREFIX))

    def user_id(self) -> str:
        return self._hex(24)

    def device_name(self) -> str:
        for _ in range(100):
            name = f"{self._random.choice(ADJECTIVES)}_{self._random.choice(NOUNS)}"
            if name not in self._used_names:
                self._used_names.add(name)
                return name

        # A fleet larger than the word lists: number the names instead.
        name = f"device_{len(self._used_names) + 1}"
        self._used_names.add(name)
        return name

    def _hex(self, length: int) -> str:
        return "".join(self._random.choice("0123456789abcdef") for _ in range(length))


def stable_hex_id(*parts: str) -> str:
    """A 24-hex id derived from its parts, e.g. a customer id from seed and email."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:24]


def random_token() -> str:
    """A 40-hex access or refresh token, like Particle's."""
    return secrets.token_hex(20)


def random_hex_id() -> str:
    return secrets.token_hex(12)


def claim_code() -> str:
    return secrets.token_urlsafe(47)
