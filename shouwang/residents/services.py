"""Passes, household links, consents and what is done on someone's behalf.

`pass_resolve` is the one way a scanned or typed pass becomes a person, for every scanner in the
product (gate, sampling point, queue, delivery). `behalf_authorize` / `behalf_record` are the one
way any module acts for a household that is not the actor's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from shouwang.core import crypto
from shouwang.core.audit import audit, signed_in
from shouwang.core.errors import DomainError, Forbidden, NotFound
from shouwang.registry.models import Household, Resident
from shouwang.residents import tokens
from shouwang.residents.models import (
    BehalfAction,
    Consent,
    HouseholdLink,
    Notice,
    Pass,
    ProxyRelation,
)

# --- passes -------------------------------------------------------------------------------


class PassRefused(DomainError):
    """A scan that does not give a person. `code` says why; the message says what to do."""

    status = 422


def _new_pass(*, resident: Resident, actor) -> Pass:
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Pass.objects.create(
                    community_id=resident.community_id,
                    resident=resident,
                    code=tokens.new_code(),
                    issued_by=signed_in(actor),
                )
        except IntegrityError:
            # A code collision (one in 10^12 per pass) or a concurrent issue for this person.
            current = Pass.objects.filter(resident=resident, status=Pass.Status.ACTIVE).first()
            if current is not None:
                return current
    raise RuntimeError("could not draw a free pass code")


def pass_issue(*, actor, resident: Resident, reason: str = "") -> Pass:
    """A new pass for `resident`; the old one (if any) stops working at once."""
    with transaction.atomic():
        Resident.objects.select_for_update().filter(pk=resident.pk).first()
        old = Pass.objects.filter(resident=resident, status=Pass.Status.ACTIVE).first()
        if old is not None:
            _revoke(old, actor=actor, reason=reason or "reissued")
        new = _new_pass(resident=resident, actor=actor)
        audit(
            actor=actor,
            action="pass.reissue" if old else "pass.issue",
            community=resident.community_id,
            target=resident,
            summary=f"pass {new.code}" + (f" replaces {old.code}" if old else ""),
            reason=reason,
        )
    return new


def pass_ensure(*, actor, residents, never_issued_only: bool = False) -> dict[int, Pass]:
    """The active pass of each resident, issuing the missing ones (for printing a building).

    `never_issued_only`: issue only to people who never had a pass, so that a pass that staff
    revoked stays revoked until they reissue it (the residents' own page uses this)."""
    residents = list(residents)
    ids = [r.pk for r in residents]
    have = {p.resident_id: p for p in Pass.objects.filter(resident_id__in=ids, status="active")}
    missing = [r for r in residents if r.pk not in have]
    if missing and never_issued_only:
        had = set(
            Pass.objects.filter(resident_id__in=[r.pk for r in missing]).values_list(
                "resident_id", flat=True
            )
        )
        missing = [r for r in missing if r.pk not in had]
    if missing:
        with transaction.atomic():
            user = signed_in(actor)
            Pass.objects.bulk_create(
                [
                    Pass(
                        community_id=r.community_id,
                        resident=r,
                        code=tokens.new_code(),
                        issued_by=user,
                    )
                    for r in missing
                ],
                ignore_conflicts=True,  # someone else issued it meanwhile, or a code collision
            )
            audit(
                actor=actor,
                action="pass.issue_many",
                community=missing[0].community_id,
                summary=f"{len(missing)} passes issued",
            )
        have.update(
            (p.resident_id, p)
            for p in Pass.objects.filter(resident_id__in=[r.pk for r in missing], status="active")
        )
        for r in missing:
            if r.pk not in have:  # the rare code collision: one by one
                have[r.pk] = _new_pass(resident=r, actor=actor)
    return have


def _revoke(p: Pass, *, actor, reason: str) -> None:
    p.status = Pass.Status.REVOKED
    p.revoked_at = timezone.now()
    p.revoked_by = signed_in(actor)
    p.revoke_reason = reason[:200]
    p.save(update_fields=["status", "revoked_at", "revoked_by", "revoke_reason"])


def pass_revoke(*, actor, pass_: Pass, reason: str) -> Pass:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(
            "reason_required",
            _("Say why the pass is revoked (lost card, photo shared …)."),
            fields={"reason": _("Required.")},
        )
    with transaction.atomic():
        p = Pass.objects.select_for_update().get(pk=pass_.pk)
        if p.status != Pass.Status.ACTIVE:
            return p  # revoking twice changes nothing
        _revoke(p, actor=actor, reason=reason)
        audit(
            actor=actor,
            action="pass.revoke",
            community=p.community_id,
            target=p.resident,
            summary=f"pass {p.code}",
            reason=reason,
        )
    return p


def pass_active(resident_id: int) -> Pass | None:
    return Pass.objects.filter(resident_id=resident_id, status=Pass.Status.ACTIVE).first()


@dataclass(frozen=True)
class PassHolder:
    """What a scanner learns from a pass: enough to know who stands there, no more."""

    pass_id: int
    resident_id: int
    household_id: int
    community_id: int
    name_masked: str
    place: str
    presence: str
    age: int | None
    tags: list[str]


def place_label(household: Household) -> str:
    d = household.dwelling
    parts = [household.building.compound.name, household.building.name]
    if d.unit_id:
        parts.append(d.unit.name)
    parts.append(d.door)
    return " ".join(parts)


def _refuse(code: str, message) -> PassRefused:
    return PassRefused(code, message, fields={"token": message})


def pass_refusal(code: str, *, revoked_at=None) -> PassRefused:
    """What every scanner says when a pass gives no person, by `code`: pass_empty,
    pass_unreadable, pass_forged (the token: see tokens.TokenError), pass_unknown,
    pass_elsewhere, pass_revoked (with the day it was revoked)."""
    if code == "pass_empty":
        return _refuse(code, _("Scan a pass, or type the code under its QR."))
    if code == "pass_unreadable":
        return _refuse(
            code,
            _(
                "This is not a Shouwang pass code. Scan again, or type the 16 characters "
                "printed under the QR (they start with SW)."
            ),
        )
    if code == "pass_forged":
        return _refuse(
            code,
            _(
                "This pass code does not check out: it was mistyped, damaged or not issued by "
                "Shouwang. Scan again; if it fails again, find the person by name or ID number."
            ),
        )
    if code == "pass_unknown":
        return _refuse(
            code,
            _("No pass has this code. Find the person by name or ID number and reissue the pass."),
        )
    if code == "pass_elsewhere":
        return _refuse(
            code,
            _("This pass belongs to another community. Send the person to their own committee."),
        )
    if code == "pass_revoked":
        when = (
            date_format(timezone.localtime(revoked_at), "SHORT_DATE_FORMAT") if revoked_at else ""
        )
        return _refuse(
            code,
            _(
                "This pass was revoked on %(date)s and no longer works. Ask for the new pass, "
                "or find the person by name or ID number."
            )
            % {"date": when},
        )
    raise ValueError(code)


def pass_code(raw: str) -> str:
    """The pass code in a scanned or typed token, or the refusal (no database read)."""
    try:
        return tokens.parse(raw)
    except tokens.TokenError as e:
        raise pass_refusal(f"pass_{e.kind}") from None


def pass_resolve(raw: str, *, community_id: int | None) -> PassHolder:
    """A scanned or typed pass → the person, or PassRefused with what to do instead.

    `community_id` is the scanner's community (None: any community, for internal callers). No
    cache: a revoked pass stops working at every scanner at the same moment.
    """
    from shouwang.core.masking import mask_name
    from shouwang.registry.services import age_on

    code = pass_code(raw)
    p = (
        Pass.objects.select_related(
            "resident__household__dwelling__unit", "resident__household__building__compound"
        )
        .filter(code=code)
        .first()
    )
    if p is None:
        raise pass_refusal("pass_unknown")
    if community_id is not None and p.community_id != community_id:
        raise pass_refusal("pass_elsewhere")
    if p.status != Pass.Status.ACTIVE:
        raise pass_refusal("pass_revoked", revoked_at=p.revoked_at)
    r = p.resident
    return PassHolder(
        pass_id=p.pk,
        resident_id=r.pk,
        household_id=r.household_id,
        community_id=r.community_id,
        name_masked=mask_name(r.name),
        place=place_label(r.household),
        presence=r.presence,
        age=age_on(r.birth_date, timezone.localdate()) if r.birth_date else None,
        tags=r.tag_labels,
    )


# --- household links ----------------------------------------------------------------------


def link_current(household: Household) -> HouseholdLink | None:
    return HouseholdLink.objects.filter(household=household, revoked_at__isnull=True).first()


def link_token(link: HouseholdLink) -> str:
    return crypto.decrypt(link.token_enc)


def link_issue(*, actor, household: Household, replace: bool = True) -> tuple[HouseholdLink, str]:
    """The household's link, with its token. `replace`: revoke the current link and make a new
    one (a leaked link); otherwise the current link is kept (reprinting cards)."""
    with transaction.atomic():
        Household.objects.select_for_update().filter(pk=household.pk).first()
        current = link_current(household)
        if current is not None:
            if not replace:
                return current, link_token(current)
            _link_revoke(current, actor=actor)
        token = tokens.new_link_token()
        link = HouseholdLink.objects.create(
            community_id=household.community_id,
            household=household,
            token_hash=tokens.link_hash(token),
            token_enc=crypto.encrypt(token),
            created_by=signed_in(actor),
        )
        audit(
            actor=actor,
            action="link.issue",
            community=household.community_id,
            target=household,
            summary="household link" + (" (replaces the old one)" if current else ""),
        )
    return link, token


def links_ensure(*, actor, households) -> dict[int, str]:
    """A link token for each household (printing cards): the active links in one query, the
    missing ones issued (and audited) one by one."""
    households = list(households)
    out = {
        link.household_id: link_token(link)
        for link in HouseholdLink.objects.filter(
            household_id__in=[h.pk for h in households], revoked_at__isnull=True
        )
    }
    for h in households:
        if h.pk not in out:
            out[h.pk] = link_issue(actor=actor, household=h, replace=False)[1]
    return out


def link_url(token: str, request=None) -> str:
    """The absolute address of a household link: SHOUWANG_PUBLIC_URL, else the request's."""
    path = reverse("residents:link_open", args=[token])
    if settings.PUBLIC_URL:
        return settings.PUBLIC_URL + path
    return request.build_absolute_uri(path) if request is not None else path


def link_send(*, actor, household: Household, request=None) -> str:
    """Send the household's link by SMS to its contact phone; returns the masked number."""
    from shouwang.residents.sms import sms_send

    phone = household.contact_phone
    if not phone:
        raise DomainError(
            "no_phone",
            _("This household has no mobile phone in the ledger. Print a card for it instead."),
        )
    link, token = link_issue(actor=actor, household=household, replace=False)
    text = _(
        "Your household's page at the residents' committee: %(url)s — passes, notices and "
        "more. Keep this link to yourselves."
    ) % {"url": link_url(token, request)}
    sms_send(phone_e164=phone, text=str(text), kind="link", community_id=household.community_id)
    masked = household.contact_phone_masked
    with transaction.atomic():
        link.sent_to_masked = masked
        link.save(update_fields=["sent_to_masked"])
        audit(
            actor=actor,
            action="link.send",
            community=household.community_id,
            target=household,
            summary=f"to {masked}",
        )
    return masked


def _link_revoke(link: HouseholdLink, *, actor) -> None:
    link.revoked_at = timezone.now()
    link.revoked_by = signed_in(actor)
    link.save(update_fields=["revoked_at", "revoked_by"])


def link_revoke(*, actor, household: Household) -> int:
    """Revoke the household's links; every page opened through them is signed out."""
    with transaction.atomic():
        links = list(HouseholdLink.objects.filter(household=household, revoked_at__isnull=True))
        for link in links:
            _link_revoke(link, actor=actor)
        if links:
            audit(
                actor=actor,
                action="link.revoke",
                community=household.community_id,
                target=household,
                summary="household link revoked",
            )
    return len(links)


def link_open(token: str) -> HouseholdLink:
    """The active link with this token, counted as used; NotFound otherwise."""
    token = (token or "").strip()
    link = None
    if 10 <= len(token) <= 64:
        link = (
            HouseholdLink.objects.filter(token_hash=tokens.link_hash(token))
            .select_related("household")
            .first()
        )
    if link is None or not link.active:
        raise NotFound(
            "link_invalid",
            _(
                "This household link does not work (it was replaced or withdrawn). Ask the "
                "committee for a new card, or sign in with your phone number."
            ),
        )
    HouseholdLink.objects.filter(pk=link.pk).update(
        last_used_at=timezone.now(), use_count=F("use_count") + 1
    )
    return link


# --- consent and acting on someone's behalf ----------------------------------------------


def consent_grant(
    *,
    actor,
    household: Household,
    relation: str,
    granted_on: date,
    proxy_user=None,
    proxy_name: str = "",
    proxy_phone: str = "",
    resident: Resident | None = None,
    note: str = "",
) -> Consent:
    """Record that `household` lets a person act for it. The person is a user of this community
    (volunteer, party member with an account) or a name and mobile phone."""
    from shouwang.registry.validation import InvalidValue, check_mobile

    errors = {}
    if relation not in ProxyRelation.values:
        errors["relation"] = _("Choose how this person is related to the household.")
    if granted_on is None or granted_on > timezone.localdate():
        errors["granted_on"] = _("Give the date the household agreed (today or earlier).")
    if resident is not None and resident.household_id != household.pk:
        errors["resident"] = _("This person is not a member of the household.")
    phone_cols = ("", "", "", "")
    if proxy_user is not None:
        if proxy_user.community_id != household.community_id or not proxy_user.is_active:
            errors["proxy_user"] = _("Choose an active user of this community.")
        proxy_name = proxy_user.display_name or proxy_user.username
    else:
        proxy_name = (proxy_name or "").strip()
        if not proxy_name:
            errors["proxy_name"] = _("Give the person's name.")
        try:
            e164 = check_mobile(proxy_phone or "")
        except InvalidValue as e:
            errors["proxy_phone"] = e.message
        else:
            if not e164:
                errors["proxy_phone"] = _(
                    "Give the person's mobile number: they sign in with it to act for the "
                    "household."
                )
            phone_cols = Resident.phone_columns(e164)
    if errors:
        raise DomainError("invalid", _("Please correct the marked fields."), fields=errors)
    enc, index, masked, _tail = phone_cols
    with transaction.atomic():
        c = Consent.objects.create(
            community_id=household.community_id,
            household=household,
            resident=resident,
            proxy_user=proxy_user,
            proxy_name=proxy_name[:50],
            proxy_phone_enc=enc,
            proxy_phone_index=index,
            proxy_phone_masked=masked,
            relation=relation,
            note=note.strip()[:100],
            granted_on=granted_on,
            recorded_by=actor,
        )
        audit(
            actor=actor,
            action="consent.grant",
            community=household.community_id,
            target=household,
            summary=f"{c.get_relation_display()} {proxy_name} {masked}".strip(),
        )
    return c


def consent_revoke(*, actor, consent: Consent) -> Consent:
    with transaction.atomic():
        c = Consent.objects.select_for_update().get(pk=consent.pk)
        if c.revoked_at is None:
            c.revoked_at = timezone.now()
            c.revoked_by = actor
            c.save(update_fields=["revoked_at", "revoked_by"])
            audit(
                actor=actor,
                action="consent.revoke",
                community=c.community_id,
                target=c.household,
                summary=f"{c.proxy_name} {c.proxy_phone_masked}".strip(),
            )
    return c


def consents_active(household_id: int):
    return Consent.objects.filter(household_id=household_id, revoked_at__isnull=True)


def _proxy_consents(*, household_id: int, user=None, phone_index: str = ""):
    """The household's active consents to this user or phone, whole-household ones first
    (NULLs sort last on PostgreSQL unless told); None when there is nobody to look for."""
    q = Q()
    if user is not None and getattr(user, "is_authenticated", False):
        q |= Q(proxy_user=user)
    if phone_index:
        q |= Q(proxy_phone_index=phone_index)
    if not q:
        return None
    return (
        consents_active(household_id)
        .filter(q)
        .order_by(F("resident_id").asc(nulls_first=True), "-created_at")
    )


def behalf_authorize(
    *,
    household_id: int,
    resident_id: int | None = None,
    user=None,
    phone_index: str = "",
) -> Consent:
    """The consent under which a user, or a person signed in with `phone_index`, may act for
    the household (or one of its members). Forbidden when there is none."""
    qs = _proxy_consents(household_id=household_id, user=user, phone_index=phone_index)
    consent = None
    if qs is not None:
        consent = qs.filter(Q(resident__isnull=True) | Q(resident_id=resident_id)).first()
    if consent is None:
        raise Forbidden(
            "no_consent",
            _(
                "This household has not given you consent to act for it. The household can ask "
                "the committee to record it."
            ),
        )
    return consent


def consent_for_viewer(*, household_id: int, user=None, phone_index: str = "") -> Consent | None:
    """Any active consent that lets this person open the household's page (for the whole
    household or one member; the whole household's first). Acting still goes through
    `behalf_authorize` with the member concerned."""
    qs = _proxy_consents(household_id=household_id, user=user, phone_index=phone_index)
    return qs.select_related("resident").first() if qs is not None else None


def behalf_record(
    *,
    consent: Consent,
    action: str,
    summary: str,
    resident_id: int | None = None,
    target=None,
) -> BehalfAction:
    """'Done by X on behalf of Y': call inside the module's own transaction."""
    return BehalfAction.objects.create(
        community_id=consent.community_id,
        household_id=consent.household_id,
        resident_id=resident_id or consent.resident_id,
        consent=consent,
        actor_name=consent.proxy_name,
        action=action,
        summary=str(summary)[:200],
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
    )


def behalf_record_once_a_day(*, consent: Consent, action: str, summary: str) -> None:
    """For looking, not doing (a proxy showing the household's passes): one line per day."""
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    if not BehalfAction.objects.filter(consent=consent, action=action, at__gte=today).exists():
        behalf_record(consent=consent, action=action, summary=summary)


# --- notices ------------------------------------------------------------------------------


def notice_publish(*, actor, title: str, body: str, expires_at=None, **scope) -> Notice:
    """A notice to the actor's community, or to one compound, building or grid (`scope`)."""
    with transaction.atomic():
        n = Notice.objects.create(
            community_id=actor.community_id,
            title=title.strip(),
            body=body.strip(),
            expires_at=expires_at,
            created_by=actor,
            **scope,
        )
        audit(
            actor=actor,
            action="notice.publish",
            community=n.community_id,
            target=n,
            summary=n.title,
        )
    return n


def notice_withdraw(*, actor, notice: Notice) -> Notice:
    with transaction.atomic():
        n = Notice.objects.select_for_update().get(pk=notice.pk)
        if n.withdrawn_at is None:
            n.withdrawn_at = timezone.now()
            n.save(update_fields=["withdrawn_at"])
            audit(
                actor=actor,
                action="notice.withdraw",
                community=n.community_id,
                target=n,
                summary=n.title,
            )
    return n
