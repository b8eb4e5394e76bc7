"""Forms of the staff pages of the residents' side: consents and notices."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouwang.core.forms import DomainErrors
from shouwang.residents.models import ProxyRelation


class ConsentForm(DomainErrors, forms.Form):
    """Renders and collects; the rules are in services.consent_grant."""

    who = forms.ChoiceField(
        label=_("Who may act for the household"),
        choices=[("phone", _("A person with a mobile phone")), ("user", _("A Shouwang user"))],
        initial="phone",
        widget=forms.RadioSelect,
    )
    proxy_name = forms.CharField(label=_("Their name"), max_length=50, required=False)
    proxy_phone = forms.CharField(label=_("Their mobile phone"), max_length=30, required=False)
    proxy_user = forms.ModelChoiceField(label=_("User"), queryset=None, required=False)
    relation = forms.ChoiceField(label=_("Relation"), choices=ProxyRelation.choices)
    resident = forms.ModelChoiceField(
        label=_("For"), queryset=None, required=False, empty_label=_("The whole household")
    )
    granted_on = forms.DateField(
        label=_("The household agreed on"),
        widget=forms.DateInput(attrs={"type": "date"}),
        initial=timezone.localdate,
    )
    note = forms.CharField(label=_("Note"), max_length=100, required=False)

    def __init__(self, *args, users, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["proxy_user"].queryset = users
        self.fields["proxy_user"].label_from_instance = lambda u: (
            f"{u.display_name or u.username} · {u.get_role_display()}"
        )
        self.fields["resident"].queryset = members


class NoticeForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=80)
    body = forms.CharField(
        label=_("Text"), max_length=2000, widget=forms.Textarea(attrs={"rows": 5})
    )
    scope = forms.ChoiceField(label=_("For"), choices=[])
    expires_at = forms.DateTimeField(
        label=_("Shown until (optional)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args, compounds, buildings, grids, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("all", _("The whole community"))]
        choices += [(f"compound:{c.pk}", f"{_('Compound')} · {c.name}") for c in compounds]
        choices += [(f"grid:{g.pk}", f"{_('Grid')} · {g.name}") for g in grids]
        choices += [
            (f"building:{b.pk}", f"{_('Building')} · {b.compound.name} {b.name}") for b in buildings
        ]
        self.fields["scope"].choices = choices
