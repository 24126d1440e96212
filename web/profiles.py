"""A registrant's own profile: view and edit."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from core.db import session_scope
from core.errors import InvalidInput
from core.models import Availability, Locale, User
from core.services import fields as field_service
from core.services import profiles as profile_service
from core.services.profiles import MAX_SUMMARY_LENGTH, MAX_TITLE_LENGTH, ProfileChanges
from workers.dispatch import dispatch_pending

bp = Blueprint("profiles", __name__, url_prefix="/profile")


class MultiCheckboxField(SelectMultipleField):  # type: ignore[misc]
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ProfileForm(FlaskForm):  # type: ignore[misc]
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=MAX_TITLE_LENGTH)])
    summary = TextAreaField(
        _l("Summary"), validators=[DataRequired(), Length(max=MAX_SUMMARY_LENGTH)]
    )
    language = SelectField(
        _l("Language of the summary"),
        choices=[("", _l("Detect")), ("en", "English"), ("ja", "日本語"), ("fr", "Français")],
    )
    keywords = StringField(_l("Keywords (comma separated)"), validators=[Length(max=1000)])
    fields = MultiCheckboxField(_l("MOC fields"), validators=[DataRequired()])
    availability = SelectField(
        _l("Availability"),
        choices=[("open", _l("Open to proposals")), ("paused", _l("Paused"))],
    )


@bp.route("/")
@login_required
def mine() -> ResponseReturnValue:
    with session_scope() as session:
        profile = profile_service.profile_of(session, current_user.id)
        if profile is None:
            return render_template("profile_missing.html")
        return render_template("profile.html", profile=profile, locale=current_user.locale)


@bp.route("/edit", methods=["GET", "POST"])
@login_required
def edit() -> ResponseReturnValue:
    settings = current_app.config["GRANTMATCH"]
    with session_scope() as session:
        profile = profile_service.profile_of(session, current_user.id)
        if profile is None:
            return render_template("profile_missing.html"), 404
        form = ProfileForm(
            data={
                "title": profile.title,
                "summary": profile.summary,
                "language": profile.language.value,
                "keywords": ", ".join(profile.keywords),
                "fields": [f.code for f in profile.fields],
                "availability": profile.availability.value,
            }
        )
        form.fields.choices = [
            (f.code, f.label(current_user.locale)) for f in field_service.list_fields(session)
        ]
        if not form.validate_on_submit():
            status = 400 if form.errors else 200
            return render_template("profile_edit.html", form=form, profile=profile), status
        changes = ProfileChanges(
            title=form.title.data or "",
            summary=form.summary.data or "",
            field_codes=list(form.fields.data or []),
            keywords=profile_service.parse_keywords(form.keywords.data or ""),
            availability=Availability(form.availability.data),
            language=Locale(form.language.data) if form.language.data else None,
        )
        actor = session.get(User, current_user.id)
        assert actor is not None
        try:
            profile_service.update_profile(
                session, profile_id=profile.id, actor=actor, changes=changes
            )
        except InvalidInput as error:
            for name, message in error.errors.items():
                getattr(form, name).errors.append(message)
            return render_template("profile_edit.html", form=form, profile=profile), 400
    # The change and its rematch request are committed; now hand the request over.
    dispatch_pending(settings)
    if settings.uses_broker:
        flash(_("Profile saved. Your matches are being updated and appear within seconds."))
    else:
        flash(_("Profile saved. Your matches are updated."))
    return redirect(url_for("matches.mine"))
