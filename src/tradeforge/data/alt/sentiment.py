"""A small lexicon-based sentiment scorer for financial headlines (no model, no download).

Tokens are matched against phrase and word lists with weights; a negator (``not``, ``no``, ``never``,
``without``, ``n't``, ...) flips and damps the polarity of sentiment words in the next three tokens;
intensifiers (``sharply``) and diminishers (``slightly``) scale the sentiment word right before them
(``plunge sharply``) or else the next one (``sharply lower``). The summed
score ``s`` is squashed into [-1, 1] by ``s / sqrt(s^2 + alpha)``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping


def _words(text: str) -> list[str]:
    return text.split()


POSITIVE: dict[str, float] = {w: 1.0 for w in _words(
    "beat beats gain gains rise rises rising rally rallies jump jumps climb climbs strong stronger strength "
    "upgrade upgrades upgraded raise raises raised growth grows grow profit profits profitable outperform "
    "outperforms boost boosts approval approve approves approved win wins won expand expands expansion "
    "bullish rebound rebounds top tops exceed exceeds exceeded robust buyback higher optimism optimistic "
    "success successful accelerate accelerates improve improves improved improvement upbeat positive gain "
    "surpass surpasses hike hikes dividend demand recover recovers recovery"
)} | {"soar": 2.0, "soars": 2.0, "surge": 2.0, "surges": 2.0, "record": 1.5, "breakthrough": 2.0,
              "blowout": 2.0, "skyrocket": 2.0, "skyrockets": 2.0}
NEGATIVE: dict[str, float] = {w: -1.0 for w in _words(
    "miss misses missed fall falls falling drop drops slip slips decline declines weak weaker weakness loss losses "
    "downgrade downgrades downgraded cut cuts lawsuit sue sues sued probe investigation fine fined recall recalls "
    "warning warn warns bearish layoffs layoff resign resigns delay delays delayed lower slowdown slow slows "
    "disappoint disappoints disappointing concern concerns risk risks halt halts penalty selloff fail fails "
    "failure failed negative lose loses shortfall downbeat struggle struggles glut pressure headwinds lawsuits "
    "slowing lowest slide slides"
)} | {"plunge": -2.0, "plunges": -2.0, "plummet": -2.0, "plummets": -2.0, "tumble": -1.5, "tumbles": -1.5,
              "slump": -1.5, "slumps": -1.5, "sink": -1.5, "sinks": -1.5, "fraud": -2.0, "scandal": -2.0,
              "bankruptcy": -2.5, "crash": -2.0, "crashes": -2.0, "breach": -1.5, "hack": -1.5, "worst": -2.0}
PHRASES: dict[tuple[str, ...], float] = {
    ("better", "than", "expected"): 2.0, ("worse", "than", "expected"): -2.0, ("all-time", "high"): 2.0,
    ("falls", "short"): -2.0, ("fell", "short"): -2.0, ("short", "of"): -1.0, ("price", "target", "raised"): 1.5,
    ("price", "target", "cut"): -1.5, ("in", "line"): 0.0,
}
NEGATORS = frozenset(_words("not no never without neither nor none n't cannot hardly"))
INTENSIFIERS: dict[str, float] = {"sharply": 1.5, "strongly": 1.5, "significantly": 1.5, "very": 1.3, "big": 1.3,
                                  "huge": 1.5, "massive": 1.5, "slightly": 0.5, "modestly": 0.5, "marginally": 0.5,
                                  "somewhat": 0.6, "mildly": 0.5}
_TOKEN = re.compile(r"n't|[a-z]+(?:[-'][a-z]+)*|\d+(?:\.\d+)?%?")


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens; ``doesn't`` becomes ``does``, ``n't``."""
    return _TOKEN.findall(text.lower().replace("n't", " n't").replace("’", "'"))


class LexiconSentiment:
    """``score(text)`` in [-1, 1]; ``scores(text)`` lists the contributing tokens."""

    def __init__(
        self, positive: Mapping[str, float] | None = None, negative: Mapping[str, float] | None = None,
        phrases: Mapping[tuple[str, ...], float] | None = None, negation_scope: int = 3,
        negation_factor: float = -0.75, alpha: float = 4.0,
    ) -> None:
        self.words = {**(POSITIVE if positive is None else positive), **(NEGATIVE if negative is None else negative)}
        self.phrases = dict(PHRASES if phrases is None else phrases)
        self.max_phrase = max((len(p) for p in self.phrases), default=1)
        self.negation_scope = negation_scope
        self.negation_factor = negation_factor
        self.alpha = alpha

    def scores(self, text: str) -> list[tuple[str, float]]:
        """The (token or phrase, signed contribution) pairs, in order."""
        toks = tokenize(text)
        out: list[tuple[str, float]] = []
        negate_until, boost, hit_end = -1, 1.0, -1
        i = 0
        while i < len(toks):
            hit: tuple[str, float, int] | None = None
            for n in range(min(self.max_phrase, len(toks) - i), 1, -1):
                key = tuple(toks[i:i + n])
                if key in self.phrases:
                    hit = (" ".join(key), self.phrases[key], n)
                    break
            if hit is None and toks[i] in self.words:
                hit = (toks[i], self.words[toks[i]], 1)
            if hit is not None:
                name, w, n = hit
                if w:
                    w *= boost
                    if i <= negate_until:
                        w *= self.negation_factor
                    out.append((name, w))
                boost = 1.0
                i += n
                hit_end = i
                continue
            tok = toks[i]
            if tok in NEGATORS:
                negate_until = i + self.negation_scope
            elif tok in INTENSIFIERS and hit_end == i and out:  # "shares plunge sharply": scale the word before
                out[-1] = (out[-1][0], out[-1][1] * INTENSIFIERS[tok])
            elif tok in INTENSIFIERS:
                boost = INTENSIFIERS[tok]
            i += 1
        return out

    def score(self, text: str) -> float:
        s = math.fsum(w for _, w in self.scores(text))
        return s / math.sqrt(s * s + self.alpha) if s else 0.0
