"""Posting a Django admin page as a browser would: the data of its form and of its inlines, as the page shows them."""

from __future__ import annotations

import datetime
from typing import Any

from django.forms import BaseForm
from django.forms.widgets import SplitDateTimeWidget
from django.http import HttpResponse


def _field_data(form: BaseForm) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        key = form.add_prefix(name)
        value = form[name].value()
        if isinstance(field.widget, SplitDateTimeWidget):
            if isinstance(value, datetime.datetime):
                data[f"{key}_0"], data[f"{key}_1"] = f"{value:%Y-%m-%d}", f"{value:%H:%M:%S}"
            else:
                data[f"{key}_0"] = data[f"{key}_1"] = ""
        elif isinstance(value, bool):
            if value:
                data[key] = "on"
        elif isinstance(value, list | tuple):
            data[key] = [str(item) for item in value]
        elif value is not None:
            data[key] = str(value)
    return data


def admin_form_data(page: HttpResponse) -> dict[str, Any]:
    """The POST data of an admin add or change page as it stands: its form's fields and each inline's forms, with
    their management forms."""
    data = _field_data(page.context["adminform"].form)
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update({formset.management_form.add_prefix(k): v for k, v in formset.management_form.initial.items()})
        for form in formset.initial_forms:
            data.update(_field_data(form))
    return data
