"""What the joint names of humanoid rigs from elsewhere say: a side and a place along a limb.

The one table of joint names Monocap knows (`LIMB_WORDS`): a name is normalised (namespace and
rig prefixes dropped, case and separators ignored, the side marker taken out: `Left`/`Right`,
`L`/`R`, `l_`, `_l`, `.L`, `Lft`...), then its remaining word is looked up. Limb joints get a
rank along their chain (legs: 1 hip, 2 knee, 3 ankle, 4 toe; arms: 0 clavicle, 1 shoulder,
2 elbow, 3 wrist, 4 hand), several where rigs disagree (`LeftShoulder` is Mixamo's clavicle but
the CMU conversions' shoulder joint); engine/animation/rig_recognizer.py settles those by the
order along the chain. Twist and roll helpers get no rank.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_LIMB_TABLE = {
    "leg": {
        (1, 0): ("hip",),
        (1,): ("thigh", "upleg", "upperleg", "legupper", "femur", "thighbend", "uleg"),
        (2,): ("shin", "calf", "leg", "lowerleg", "leglower", "knee", "lleg", "shinbend", "tibia", "loleg"),
        (3,): ("ankle", "talus"),
        (3, 4): ("foot",),
        (4,): ("toe", "toes", "toebase", "ball", "toe0", "toesbase", "footend"),
    },
    "arm": {
        (0,): ("clavicle", "collar", "clav", "scapula", "collarbone"),
        (0, 1): ("shoulder",),
        (1,): ("upperarm", "arm", "uparm", "uarm", "shldr", "shldrbend", "humerus", "armupper"),
        (2,): ("forearm", "lowerarm", "elbow", "farm", "armlower", "loarm", "forearmbend", "ulna", "radius"),
        (3,): ("wrist",),
        (3, 4): ("hand",),
        (4,): ("fingers", "finger", "fingerbase", "handmiddle", "middle", "mid", "palm", "knuckle", "handend",
               "wristend", "carpal"),
    },
}
# word -> (limb, ranks in order of preference)
LIMB_WORDS: dict[str, tuple[str, tuple[int, ...]]] = {
    word: (limb, ranks) for limb, table in _LIMB_TABLE.items() for ranks, words in table.items() for word in words}

HEAD_WORDS = ("head", "skull", "cranium")
EYE_WORDS = ("eye",)
NOSE_WORDS = ("nose",)
HELPER_WORDS = ("twist", "roll", "sharebone", "share", "helper", "nub", "metatarsals", "meta", "adjust")
# rig prefixes and tokens that say nothing about the joint
_NOISE = ("mixamorig", "def", "org", "mch", "cc", "base", "bip01", "bip001", "bip", "j", "jnt", "joint", "bone",
          "b", "c", "ik", "fk", "bn", "sk", "ctrl", "deform", "rig", "armature", "character")
_LEFT = ("left", "l", "lft")
_RIGHT = ("right", "r", "rgt", "rt")
_TOKEN = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


@dataclass(frozen=True)
class NameInfo:
    side: str  # "left", "right" or ""
    word: str  # the normalised word left once side, prefixes and digits are gone ("upleg")
    index: int | None  # a trailing number ("spine_02" -> 2)

    @property
    def limb(self) -> tuple[str, tuple[int, ...]] | None:
        """(limb, ranks) for a limb joint, None otherwise (helpers and unknown words too)."""
        if any(h in self.word for h in HELPER_WORDS):
            return None
        found = LIMB_WORDS.get(self.word)
        if found is None:
            for suffix in ("end", "site"):
                if self.word.endswith(suffix) and self.word[:-len(suffix)] in LIMB_WORDS:
                    return None  # an end site beyond a limb joint: placed by structure
        return found

    def is_word(self, words: tuple[str, ...]) -> bool:
        return any(self.word == w or self.word.startswith(w) for w in words)


def _known(word: str) -> bool:
    return word in LIMB_WORDS or any(word.startswith(w) for w in HEAD_WORDS + EYE_WORDS)


def name_info(name: str) -> NameInfo:
    """Normalises one joint name: `mixamorig:LeftUpLeg` -> (left, upleg), `DEF-thigh.L` ->
    (left, thigh), `CC_Base_L_Calf` -> (left, calf), `lShldr` -> (left, shldr), `HipLeft` ->
    (left, hip), `spine_02` -> ("", spine, 2)."""
    bare = re.split(r"[:|]", name)[-1]
    tokens = [t for t in _TOKEN.findall(bare)]
    index = None
    if tokens and tokens[-1].isdigit():
        index = int(tokens[-1])
    words = [t for t in tokens if not t.isdigit()]
    side = ""
    kept: list[str] = []
    for i, t in enumerate(words):
        low = t.lower()
        if not side and low in _LEFT + _RIGHT and len(words) > 1:
            side = "left" if low in _LEFT else "right"
            continue
        if low in _NOISE and len(words) > 1:
            continue
        kept.append(low)
    word = "".join(kept)
    if not side:
        for marker, s in (("left", "left"), ("right", "right")):
            if word.startswith(marker) and len(word) > len(marker):
                side, word = s, word[len(marker):]
                break
            if word.endswith(marker) and len(word) > len(marker):
                side, word = s, word[:-len(marker)]
                break
    if not side and len(word) > 2 and word[0] in "lr" and _known(word[1:]) and not _known(word):
        side, word = ("left" if word[0] == "l" else "right"), word[1:]
    if side and not _known(word):  # an unknown prefix ("m_avg_L_Hip"): the longest known tail
        word = next((w for w in ("".join(kept[i:]) for i in range(1, len(kept))) if _known(w)), word)
    return NameInfo(side, word, index)
