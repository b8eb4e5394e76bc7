"""What the HTML forms of every module share."""

from __future__ import annotations

from django import forms

from shouwang.core.errors import DomainError


class DomainErrors:
    """A form mixin: a service's refusal shown on the form — each field's message on its field,
    a message for a field the form does not have (or a refusal naming none) above the form."""

    def add_domain_errors(self, error: DomainError | dict) -> None:
        if isinstance(error, DomainError):
            error = error.fields or {"__all__": error.message}
        for key, message in error.items():
            self.add_error(key if key in self.fields else None, str(message))


def area_checks(label) -> forms.ModelMultipleChoiceField:
    """Tick boxes for the compounds, buildings or grids a point, a merchant or a batch covers
    (the view sets the queryset: the user's community)."""
    return forms.ModelMultipleChoiceField(
        label=label, queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
