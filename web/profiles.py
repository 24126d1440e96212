"""A registrant's own profile: the guided form, the consent step, pausing and withdrawing."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import (
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from core.db import session_scope
from core.errors import InvalidInput
from core.models import Availability, Locale, OrganizationKind, ProfileKind
from core.regions import regions_of
from core.services import consent as consent_service
from core.services import fields as field_service
from core.services import profiles as profile_service
from core.services.profiles import (
    MAX_SUMMARY_LENGTH,
    MAX_TITLE_LENGTH,
    ProfileChanges,
    RegistrantProfile,
)
from web.support import acting_user, hand_over, settings, show_errors

bp = Blueprint("profiles", __name__, url_prefix="/profile")


class MultiCheckboxField(SelectMultipleField):  # type: ignore[misc]
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class BoundedIntegerField(IntegerField):  # type: ignore[misc]
    """A whole number of at most 12 digits: longer input is refused before conversion
    (a 400-digit number would otherwise overflow the range check)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist and isinstance(valuelist[0], str) and len(valuelist[0].strip()) > 12:
            self.data = None
            raise ValueError(_l("Enter a smaller number."))
        super().process_formdata(valuelist)


ORGANIZATION_KINDS = [
    ("startup", _l("Startup")),
    ("sme", _l("Small or medium-sized enterprise")),
    ("large_company", _l("Large company")),
    ("university", _l("University")),
    ("public_research_institute", _l("Public research institute")),
    ("other", _l("Other")),
]
PARTNER_KINDS = [
    ("researcher", _l("Researchers")),
    ("startup", _l("Startups")),
    ("sme", _l("Small or medium-sized enterprises")),
    ("large_company", _l("Large companies")),
]
COLLABORATION_TYPES = [
    ("joint_rd", _l("Joint research and development")),
    ("facility_use", _l("Use of facilities such as AIST's G-QuAT")),
    ("researcher_exchange", _l("Researcher exchange")),
    ("standards", _l("Standards work")),
    ("licensing", _l("Licensing")),
    ("investment", _l("Investment")),
]


class ProfileForm(FlaskForm):  # type: ignore[misc]
    kind = RadioField(
        _l("I am"),
        choices=[("researcher", _l("A researcher")), ("startup", _l("A startup"))],
        validators=[DataRequired(message=_l("Choose one."))],
    )
    organization_name = StringField(
        _l("Organization name"), validators=[DataRequired(), Length(max=300)]
    )
    organization_kind = SelectField(_l("Kind of organization"), choices=ORGANIZATION_KINDS)
    staff_count = BoundedIntegerField(
        _l("Staff count"), validators=[Optional(), NumberRange(min=1, max=10_000_000)]
    )
    founded_year = BoundedIntegerField(
        _l("Year founded"), validators=[Optional(), NumberRange(min=1600, max=2100)]
    )
    website = URLField(_l("Website"), validators=[Optional(), Length(max=500)])
    region = SelectField(_l("Prefecture, province or territory"))
    fields = MultiCheckboxField(_l("MOC fields"), validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=MAX_TITLE_LENGTH)])
    summary = TextAreaField(
        _l("Summary"), validators=[DataRequired(), Length(max=MAX_SUMMARY_LENGTH)]
    )
    language = SelectField(
        _l("Language of the summary"),
        choices=[("", _l("Detect")), ("en", "English"), ("ja", "日本語"), ("fr", "Français")],
    )
    keywords = StringField(_l("Keywords (comma separated)"), validators=[Length(max=1000)])
    seeking = MultiCheckboxField(_l("Partners I am looking for"), choices=PARTNER_KINDS)
    collaboration_types = MultiCheckboxField(
        _l("Kinds of collaboration"), choices=COLLABORATION_TYPES
    )
    availability = SelectField(
        _l("Availability"),
        choices=[("open", _l("Open to proposals")), ("paused", _l("Paused"))],
    )
    orcid = StringField(_l("ORCID iD (researchers)"), validators=[Length(max=60)])


def _choices(form: ProfileForm, session: Any) -> None:
    locale = str(get_locale() or "en")
    form.fields.choices = [(f.code, f.label(locale)) for f in field_service.list_fields(session)]
    form.region.choices = {
        str(_("Japan")): [(r.code, r.name(locale)) for r in regions_of("JP")],
        str(_("Canada")): [(r.code, r.name(locale)) for r in regions_of("CA")],
    }


@bp.route("/")
@login_required
def mine() -> ResponseReturnValue:
    with session_scope() as session:
        profile = profile_service.profile_of(session, current_user.id)
        if profile is None:
            return render_template("profile_missing.html")
        return render_template(
            "profile.html",
            profile=profile,
            locale=str(get_locale() or "en"),
            needs_consent=consent_service.needs_consent(profile),
            history=consent_service.history(session, profile.id),
        )


@bp.route("/edit", methods=["GET", "POST"])
@login_required
def edit() -> ResponseReturnValue:
    with session_scope() as session:
        profile = profile_service.profile_of(session, current_user.id)
        data: dict[str, Any] = {}
        if profile is not None:
            organization = profile.organization
            data = {
                "kind": profile.kind.value,
                "organization_name": organization.name,
                "organization_kind": organization.kind.value,
                "staff_count": organization.staff_count,
                "founded_year": organization.founded_year,
                "website": organization.website or "",
                "region": profile.region,
                "fields": [f.code for f in profile.fields],
                "title": profile.title,
                "summary": profile.summary,
                "language": profile.language.value,
                "keywords": ", ".join(profile.keywords),
                "seeking": list(profile.seeking),
                "collaboration_types": list(profile.collaboration_types),
                "availability": profile.availability.value,
                "orcid": profile.orcid or "",
            }
        form = ProfileForm(data=data)
        _choices(form, session)
        is_new = profile is None
        if not form.validate_on_submit():
            status = 400 if form.errors else 200
            return render_template("profile_edit.html", form=form, is_new=is_new), status
        details = RegistrantProfile(
            kind=ProfileKind(form.kind.data),
            organization_name=form.organization_name.data or "",
            organization_kind=OrganizationKind(form.organization_kind.data),
            region=form.region.data or "",
            staff_count=form.staff_count.data,
            founded_year=form.founded_year.data,
            website=form.website.data or "",
            seeking=list(form.seeking.data or []),
            collaboration_types=list(form.collaboration_types.data or []),
            orcid=form.orcid.data or "",
            changes=ProfileChanges(
                title=form.title.data or "",
                summary=form.summary.data or "",
                field_codes=list(form.fields.data or []),
                keywords=profile_service.parse_keywords(form.keywords.data or ""),
                availability=Availability(form.availability.data),
                language=Locale(form.language.data) if form.language.data else None,
            ),
        )
        try:
            saved = profile_service.save_registrant_profile(
                session, owner=acting_user(session), details=details
            )
        except InvalidInput as error:
            session.rollback()
            show_errors(form, error)
            return render_template("profile_edit.html", form=form, is_new=is_new), 400
        needs_consent = consent_service.needs_consent(saved)
    hand_over()
    if needs_consent:
        flash(_("Profile saved. One more step: agree to share it, so that it can be matched."))
        return redirect(url_for("profiles.consent"))
    if settings().uses_broker:
        flash(_("Profile saved. Your matches are being updated and appear within seconds."))
    else:
        flash(_("Profile saved. Your matches are updated."))
    return redirect(url_for("matches.mine"))


class ConsentForm(FlaskForm):  # type: ignore[misc]
    pass


@bp.route("/consent", methods=["GET", "POST"])
@login_required
def consent() -> ResponseReturnValue:
    form = ConsentForm()
    with session_scope() as session:
        profile = profile_service.profile_of(session, current_user.id)
        if profile is None:
            return redirect(url_for("profiles.edit"))
        country = profile.country.value
        if not current_user.verified:
            return render_template("consent.html", form=form, country=country, verified=False)
        if not form.validate_on_submit():
            return render_template("consent.html", form=form, country=country, verified=True)
        consent_service.give_consent(session, profile=profile, actor=acting_user(session))
    hand_over()
    flash(_("Thank you. Your profile is now matched with partners in the other country."))
    return redirect(url_for("matches.mine"))


@bp.route("/consent/withdraw", methods=["POST"])
@login_required
def withdraw_consent() -> ResponseReturnValue:
    form = ConsentForm()
    if not form.validate_on_submit():
        return redirect(url_for("profiles.mine"))
    with session_scope() as session:
        profile = profile_service.profile_of(session, current_user.id)
        if profile is not None:
            consent_service.withdraw_consent(session, profile=profile, actor=acting_user(session))
    hand_over()
    flash(_("Consent withdrawn. Your profile is hidden from matching and from partners."))
    return redirect(url_for("profiles.mine"))
