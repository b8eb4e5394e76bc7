"""The ledger (底账): places, households and residents. Every other app stands on these rows.

Community is the tenant: every row below it carries `community` so that scoping is one indexed
filter, never a join.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from shouwang.core import crypto
from shouwang.core.masking import mask_middle, mask_phone
from shouwang.registry.validation import IdType


class District(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("district")
        ordering = ["code"]

    def __str__(self):
        return self.name


class Street(models.Model):
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="streets")
    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("street")
        ordering = ["code"]

    def __str__(self):
        return self.name


class Community(models.Model):
    street = models.ForeignKey(
        Street, null=True, blank=True, on_delete=models.PROTECT, related_name="communities"
    )
    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    # Huamei gave households of 6 or more a second portion: the threshold is a setting.
    large_household_threshold = models.PositiveSmallIntegerField(
        _("large household from (people)"), default=6
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        ordering = ["code"]

    def __str__(self):
        return self.name


class CompoundKind(models.TextChoices):
    COMMODITY = "commodity", _("Commodity housing")
    PUBLIC = "public", _("Public housing")
    HOMESTEAD = "homestead", _("Self-built homestead")
    VILLA = "villa", _("Villa")
    OLD = "old", _("Old compound")


class Compound(models.Model):
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="compounds")
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(
        _("kind"), max_length=16, choices=CompoundKind.choices, default=CompoundKind.COMMODITY
    )
    # 80 % of Qianjinxiang's compounds had no property company: the committee does it all.
    has_property_company = models.BooleanField(_("served by a property company"), default=False)

    class Meta:
        verbose_name = _("compound")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["community", "name"], name="compound_unique_name")
        ]

    def __str__(self):
        return self.name


class Building(models.Model):
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    compound = models.ForeignKey(Compound, on_delete=models.CASCADE, related_name="buildings")
    name = models.CharField(_("name"), max_length=50)
    grid = models.ForeignKey(
        "grids.Grid",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="buildings",
        verbose_name=_("grid"),
    )

    class Meta:
        verbose_name = _("building")
        ordering = ["compound__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["compound", "name"], name="building_unique_name")
        ]

    def __str__(self):
        return f"{self.compound.name} {self.name}"


class Unit(models.Model):
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    building = models.ForeignKey(Building, on_delete=models.CASCADE, related_name="units")
    name = models.CharField(_("name"), max_length=50)

    class Meta:
        verbose_name = _("unit")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["building", "name"], name="unit_unique_name")
        ]

    def __str__(self):
        return self.name


class Dwelling(models.Model):
    """A door. Not a household: a homestead door can hold five or six rented households."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    building = models.ForeignKey(Building, on_delete=models.CASCADE, related_name="dwellings")
    # Homestead buildings have no units.
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.CASCADE, related_name="dwellings"
    )
    door = models.CharField(_("door"), max_length=50)

    class Meta:
        verbose_name = _("dwelling")
        ordering = ["building_id", "unit__name", "door"]
        constraints = [
            models.UniqueConstraint(
                fields=["building", "unit", "door"],
                condition=Q(unit__isnull=False),
                name="dwelling_unique_in_unit",
            ),
            models.UniqueConstraint(
                fields=["building", "door"],
                condition=Q(unit__isnull=True),
                name="dwelling_unique_without_unit",
            ),
        ]

    def __str__(self):
        return self.door


class HouseholdQuerySet(models.QuerySet):
    def in_community(self, community_id):
        return self.filter(community_id=community_id)

    def in_grid(self, grid_id):
        return self.filter(building__grid_id=grid_id)

    def with_place(self):
        return self.select_related("dwelling__unit", "building__compound", "building__grid")


class Household(models.Model):
    """A family that lives and eats together — Huamei's lesson: count families, not doors."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="households")
    dwelling = models.ForeignKey(Dwelling, on_delete=models.PROTECT, related_name="households")
    # Denormalised from the dwelling so grid and building filters need no extra join.
    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="households")
    head = models.ForeignKey(
        "Resident", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contact_phone_enc = models.TextField(blank=True, default="")
    contact_phone_masked = models.CharField(max_length=20, blank=True, default="")
    # Members who live here now (present, away or in hospital); kept by the services.
    size = models.PositiveSmallIntegerField(_("size"), default=0)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = HouseholdQuerySet.as_manager()

    class Meta:
        verbose_name = _("household")
        ordering = ["building_id", "dwelling_id", "id"]
        indexes = [models.Index(fields=["community", "building"], name="household_comm_bldg")]

    def __str__(self):
        return f"{self.dwelling} #{self.pk}"

    def is_large(self, threshold: int | None = None) -> bool:
        if threshold is None:
            threshold = self.community.large_household_threshold
        return self.size >= threshold

    @property
    def contact_phone(self) -> str:
        return crypto.decrypt(self.contact_phone_enc)


class Relation(models.TextChoices):
    HEAD = "head", pgettext_lazy("relation", "Head of household")
    SPOUSE = "spouse", pgettext_lazy("relation", "Spouse")
    CHILD = "child", pgettext_lazy("relation", "Child")
    PARENT = "parent", pgettext_lazy("relation", "Parent")
    GRANDCHILD = "grandchild", pgettext_lazy("relation", "Grandchild")
    GRANDPARENT = "grandparent", pgettext_lazy("relation", "Grandparent")
    SIBLING = "sibling", pgettext_lazy("relation", "Sibling")
    CHILD_IN_LAW = "child_in_law", pgettext_lazy("relation", "Son/daughter-in-law")
    OTHER = "other", pgettext_lazy("relation", "Other")


class Residency(models.TextChoices):
    REGISTERED = "registered", _("Registered (户籍)")
    LONG_TERM = "long_term", _("Long-term resident")
    TENANT = "tenant", _("Tenant")
    FLOATING = "floating", _("Floating population")
    ACCOMPANYING = "accompanying", _("Accompanying parent of a student")


class Presence(models.TextChoices):
    PRESENT = "present", _("Present")
    AWAY = "away", _("Away")
    HOSPITAL = "hospital", _("In hospital")
    MOVED_OUT = "moved_out", _("Moved out")


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")
    UNKNOWN = "", _("Unknown")


class CareTag(models.IntegerChoices):
    """Care tags as bits of one integer: one column, any combination, filterable on both databases."""

    AGE_60 = 1 << 0, _("60+")
    AGE_80 = 1 << 1, _("80+")
    LIVING_ALONE = 1 << 2, _("Living alone")
    BEDRIDDEN = 1 << 3, _("Bedridden")
    DISABLED = 1 << 4, pgettext_lazy("care tag", "Disabled")
    CHRONIC = 1 << 5, _("Chronic illness")
    PREGNANT = 1 << 6, _("Pregnant")
    INFANT = 1 << 7, _("Infant")
    CHILD_IN_DIFFICULTY = 1 << 8, _("Child in difficulty")
    LOW_INCOME = 1 << 9, _("Low income")
    NO_SMARTPHONE = 1 << 10, _("No smartphone")
    PARTY_MEMBER = 1 << 11, _("Party member")

    @classmethod
    def names_of(cls, bits: int) -> list[str]:
        return [str(t.label) for t in cls if bits & t.value]


class ResidentQuerySet(models.QuerySet):
    def in_community(self, community_id):
        return self.filter(community_id=community_id)

    def in_grid(self, grid_id):
        return self.filter(household__building__grid_id=grid_id)

    def living_here(self):
        return self.exclude(presence=Presence.MOVED_OUT)

    def with_tag(self, tag: int):
        return self.alias(_tag=models.F("tags").bitand(int(tag))).filter(_tag__gt=0)

    def with_place(self):
        return self.select_related(
            "household__dwelling__unit",
            "household__building__compound",
            "household__building__grid",
        )


class Resident(models.Model):
    """A person in the ledger. The ID number and phone are stored encrypted (PIPL).

    `*_index` is a keyed blind index for exact lookup; `*_masked` and `*_tail` are what staff
    without the reveal right see and search by.
    """

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="residents")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="members")
    name = models.CharField(_("name"), max_length=50)
    id_type = models.CharField(
        _("ID type"), max_length=20, choices=IdType.choices, default=IdType.RESIDENT_ID
    )
    id_number_enc = models.TextField(default="")
    id_number_index = models.CharField(max_length=32)
    id_number_masked = models.CharField(_("ID number"), max_length=40, default="")
    id_tail = models.CharField(max_length=4, default="")
    phone_enc = models.TextField(blank=True, default="")
    phone_index = models.CharField(max_length=32, blank=True, default="")
    phone_masked = models.CharField(_("mobile phone"), max_length=20, blank=True, default="")
    phone_tail = models.CharField(max_length=4, blank=True, default="")
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, blank=True, default="")
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    # A typed birth date that disagrees with the one inside the ID number.
    birth_date_mismatch = models.BooleanField(default=False)
    relation = models.CharField(
        _("relation to head"), max_length=16, choices=Relation.choices, default=Relation.OTHER
    )
    residency = models.CharField(
        _("residency"), max_length=16, choices=Residency.choices, default=Residency.REGISTERED
    )
    presence = models.CharField(
        _("presence"), max_length=16, choices=Presence.choices, default=Presence.PRESENT
    )
    tags = models.PositiveIntegerField(_("care tags"), default=0)
    medicines = models.CharField(_("medicines"), max_length=200, blank=True, default="")
    note = models.CharField(_("note"), max_length=200, blank=True, default="")
    # A digest of the imported fields: re-importing an unchanged row is a no-op without decrypting.
    import_digest = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ResidentQuerySet.as_manager()

    class Meta:
        verbose_name = _("resident")
        ordering = ["household_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "id_number_index"], name="resident_unique_id"
            ),
        ]
        indexes = [
            # varchar_pattern_ops lets PostgreSQL answer name LIKE 'prefix%' from the index
            # whatever the database collation; other databases ignore opclasses.
            models.Index(
                fields=["community", "name"],
                name="resident_comm_name",
                opclasses=["int8_ops", "varchar_pattern_ops"],
            ),
            models.Index(fields=["community", "id_tail"], name="resident_comm_idtail"),
            models.Index(fields=["community", "phone_tail"], name="resident_comm_phonetail"),
            # Nearly unique: serves the search within a community and the SMS sign-in, which
            # looks a phone up across communities.
            models.Index(fields=["phone_index"], name="resident_phone"),
        ]

    def __str__(self):
        return self.name

    @property
    def id_number(self) -> str:
        return crypto.decrypt(self.id_number_enc)

    @property
    def phone(self) -> str:
        return crypto.decrypt(self.phone_enc)

    @property
    def tag_labels(self) -> list[str]:
        return CareTag.names_of(self.tags)

    @staticmethod
    def id_number_columns(number: str, *, index: str = "") -> tuple[str, str, str, str]:
        """What is stored of an ID number: (ciphertext, blind index, masked, last four).

        The import passes the index it has already computed; bulk inserts use the tuple as is.
        """
        return (
            crypto.encrypt(number),
            index or crypto.blind_index("id", number),
            mask_middle(number),
            number[-4:],
        )

    @staticmethod
    def phone_columns(e164: str) -> tuple[str, str, str, str]:
        """What is stored of a mobile phone: (ciphertext, blind index, masked, last four)."""
        if not e164:
            return ("", "", "", "")
        return (
            crypto.encrypt(e164),
            crypto.blind_index("phone", e164),
            mask_phone(e164),
            e164[-4:],
        )

    def set_id_number(self, number: str, *, index: str = "") -> None:
        (self.id_number_enc, self.id_number_index, self.id_number_masked, self.id_tail) = (
            self.id_number_columns(number, index=index)
        )

    def set_phone(self, e164: str) -> None:
        (self.phone_enc, self.phone_index, self.phone_masked, self.phone_tail) = self.phone_columns(
            e164
        )
