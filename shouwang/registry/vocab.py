"""Words committees write in their ledgers, mapped to our values."""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy

from shouwang.registry.models import CareTag, Presence, Relation, Residency

# Column names as the import reports them and the export writes them: the same words both ways,
# so an exported file imports again.
FIELD_LABELS = {
    "compound": gettext_lazy("Compound"),
    "building": gettext_lazy("Building"),
    "unit": gettext_lazy("Unit"),
    "door": gettext_lazy("Door"),
    "relation": gettext_lazy("Relation to head"),
    "name": gettext_lazy("Name"),
    "id_type": gettext_lazy("ID type"),
    "id_number": gettext_lazy("ID number"),
    "phone": gettext_lazy("Mobile phone"),
    "tags": gettext_lazy("Tags"),
    "note": gettext_lazy("Note"),
    "sex": gettext_lazy("Sex"),
    "birth_date": gettext_lazy("Birth date"),
    "residency": gettext_lazy("Residency"),
    "presence": gettext_lazy("Presence"),
    "grid": gettext_lazy("Grid"),
}

RELATIONS: dict[str, str] = {}
for words, value in [
    ("户主 本人 户主本人 head self", Relation.HEAD),
    ("配偶 妻 妻子 夫 丈夫 爱人 老伴 spouse wife husband", Relation.SPOUSE),
    (
        "子女 子 女 儿子 女儿 长子 次子 长女 次女 独生子 独生女 养子 养女 继子 继女 child son daughter",
        Relation.CHILD,
    ),
    ("父母 父 母 父亲 母亲 公公 婆婆 岳父 岳母 parent father mother", Relation.PARENT),
    ("孙子女 孙子 孙女 外孙 外孙子 外孙女 grandchild", Relation.GRANDCHILD),
    ("祖父母 祖父 祖母 爷爷 奶奶 外公 外婆 外祖父 外祖母 grandparent", Relation.GRANDPARENT),
    ("兄弟姐妹 兄 弟 姐 妹 哥哥 弟弟 姐姐 妹妹 sibling", Relation.SIBLING),
    ("儿媳 女婿 媳妇 child_in_law", Relation.CHILD_IN_LAW),
    ("其他 其它 亲属 其他亲属 保姆 朋友 同住 租户 other", Relation.OTHER),
]:
    for w in words.split():
        RELATIONS[w.lower()] = value

# Care tags, and the words that are really a residency or presence written in the tags column.
TAGS: dict[str, int] = {}
for words, tag in [
    ("60岁以上 60岁及以上 60+ 老年人 老人 age_60", CareTag.AGE_60),
    ("80岁以上 80岁及以上 80+ 高龄 高龄老人 age_80", CareTag.AGE_80),
    ("独居 独居老人 空巢 空巢老人 living_alone", CareTag.LIVING_ALONE),
    ("卧床 卧床不起 失能 bedridden", CareTag.BEDRIDDEN),
    ("残疾 残疾人 disabled", CareTag.DISABLED),
    ("慢性病 慢病 基础病 chronic", CareTag.CHRONIC),
    ("孕妇 孕产妇 pregnant", CareTag.PREGNANT),
    ("婴幼儿 婴儿 幼儿 infant", CareTag.INFANT),
    ("困境儿童 留守儿童 child_in_difficulty", CareTag.CHILD_IN_DIFFICULTY),
    ("低保 低收入 低保户 特困 low_income", CareTag.LOW_INCOME),
    ("无智能手机 无手机 老年机 no_smartphone", CareTag.NO_SMARTPHONE),
    ("党员 party_member", CareTag.PARTY_MEMBER),
]:
    for w in words.split():
        TAGS[w.lower()] = int(tag)

RESIDENCY_WORDS: dict[str, str] = {}
for words, value in [
    ("户籍 户籍人口 registered", Residency.REGISTERED),
    ("常住 常住人口 long_term", Residency.LONG_TERM),
    ("租户 租客 承租 出租 tenant", Residency.TENANT),
    ("流动 流动人口 外来 floating", Residency.FLOATING),
    ("陪读 陪读家长 accompanying", Residency.ACCOMPANYING),
]:
    for w in words.split():
        RESIDENCY_WORDS[w.lower()] = value

PRESENCE_WORDS: dict[str, str] = {}
for words, value in [
    ("在家 在住 在位 present", Presence.PRESENT),
    ("外出 不在 离开 在外 away", Presence.AWAY),
    ("住院 医院 hospital", Presence.HOSPITAL),
    ("迁出 搬离 已搬走 moved_out", Presence.MOVED_OUT),
]:
    for w in words.split():
        PRESENCE_WORDS[w.lower()] = value


def _with_labels(words: dict[str, str], choices) -> None:
    """Also accept the labels we print ourselves, in both languages, so an exported file
    imports again without losing a relation, residency or presence."""
    from django.utils import translation

    for lang in ("zh-hans", "en"):
        with translation.override(lang):
            for value, label in choices.choices:
                words.setdefault(str(label).strip().lower(), value)


_labels_added = False


def ensure_labels() -> None:
    global _labels_added
    if not _labels_added:
        _with_labels(RELATIONS, Relation)
        _with_labels(RESIDENCY_WORDS, Residency)
        _with_labels(PRESENCE_WORDS, Presence)
        _with_labels(TAGS, CareTag)
        _labels_added = True


_SPLIT = re.compile(r"[,，、;；/|]+")


def split_words(text: str) -> list[str]:
    """Tags are separated by punctuation; a token we do not know whole is tried word by word
    (so "Living alone" stays one tag while "独居 慢性病" is two)."""
    words = []
    for token in _SPLIT.split(text.strip().lower()):
        token = token.strip()
        if not token:
            continue
        if token in TAGS or token in RESIDENCY_WORDS or token in PRESENCE_WORDS:
            words.append(token)
        else:
            words.extend(w for w in token.split() if w)
    return words


def parse_tags(text: str) -> tuple[int, str | None, str | None, list[str]]:
    """Returns (tag bits, residency or None, presence or None, words not understood)."""
    bits, residency, presence, unknown = 0, None, None, []
    for word in split_words(text):
        if word in TAGS:
            bits |= TAGS[word]
        elif word in RESIDENCY_WORDS:
            residency = RESIDENCY_WORDS[word]
        elif word in PRESENCE_WORDS:
            presence = PRESENCE_WORDS[word]
        else:
            unknown.append(word)
    return bits, residency, presence, unknown
