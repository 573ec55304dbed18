"""core.access.roles: the [access] settings, e-mail patterns to roles, permissions."""
import pytest

from core.access.roles import (
    ADMIN,
    CLINICIAN,
    LOCAL_USER,
    AccessConfigError,
    AccessDenied,
    access_config,
    identify,
    role_for,
    sign_in_providers,
    verified_email,
)

AUTH = {"redirect_uri": "http://h/oauth2callback", "cookie_secret": "s" * 32, "client_id": "c",
        "client_secret": "x", "server_metadata_url": "http://idp/.well-known/openid-configuration"}
SECRETS = {"auth": AUTH, "access": {"admins": ["Alice@Hospital.org"], "clinicians": ["*@hospital.org", "bob@clinic.net"]}}


def signed_in(email, **claims):
    return {"is_logged_in": True, "email": email, **claims}


def test_no_auth_section_means_one_local_user_who_may_do_everything():
    config = access_config({})
    assert not config.sign_in
    who = identify({}, config)
    assert who.who == LOCAL_USER and who.role == ADMIN
    assert all(who.can(a) for a in ("segment", "evaluate", "train", "activate", "delete", "read_audit"))


@pytest.mark.parametrize("email, role", [
    ("alice@hospital.org", ADMIN),          # admins are checked first, though the clinician glob matches too
    ("ALICE@HOSPITAL.ORG", ADMIN),          # case never matters
    ("carol@hospital.org", CLINICIAN),      # the glob
    ("Carol@Hospital.Org", CLINICIAN),
    ("bob@clinic.net", CLINICIAN),          # an exact address
    ("bob2@clinic.net", None),
    ("carol@hospital.org.evil.com", None),  # the glob is anchored at both ends
    ("carol@sub.hospital.org", None),       # a sub-domain is another domain
    (None, None),
])
def test_role_for(email, role):
    assert role_for(email, access_config(SECRETS)) == role


def test_an_address_with_two_ats_or_an_unverified_address_gets_no_role():
    config = access_config(SECRETS)
    assert verified_email({"email": "x@evil.org@hospital.org"}) is None
    assert identify(signed_in("x@evil.org@hospital.org"), config).role is None
    assert identify(signed_in("alice@hospital.org", email_verified=False), config).role is None
    assert identify(signed_in("alice@hospital.org", email_verified=True), config).role == ADMIN


def test_outside_both_lists_is_signed_in_with_no_access():
    who = identify(signed_in("eve@elsewhere.com", name="Eve"), access_config(SECRETS))
    assert who.who == "eve@elsewhere.com" and who.name == "Eve" and who.role is None
    assert not who.can("segment") and not who.can("evaluate")


def test_nobody_signed_in_yet_has_no_identity():
    config = access_config(SECRETS)
    assert identify({"is_logged_in": False}, config) is None
    assert identify({"email": "alice@hospital.org"}, config) is None  # a claim without a sign-in counts for nothing


def test_clinicians_segment_and_evaluate_only():
    who = identify(signed_in("carol@hospital.org"), access_config(SECRETS))
    assert who.can("segment") and who.can("evaluate")
    for action in ("train", "activate", "delete", "read_audit"):
        assert not who.can(action)
        with pytest.raises(AccessDenied, match="carol@hospital.org"):
            who.require(action)


def test_sign_in_with_no_access_section_gives_nobody_access():
    who = identify(signed_in("alice@hospital.org"), access_config({"auth": AUTH}))
    assert who.role is None


def test_a_single_string_is_read_as_a_one_item_list():
    config = access_config({"access": {"admins": "Alice@Hospital.org"}})
    assert config.admins == ("alice@hospital.org",)


@pytest.mark.parametrize("access", [
    {"admins": [1, 2]},
    {"data_roots": ["relative/folder"]},
    {"audit_log": "audit.jsonl"},
])
def test_malformed_settings_are_refused(access):
    with pytest.raises(AccessConfigError):
        access_config({"access": access})


def test_data_roots_unset_empty_and_given():
    assert access_config({}).data_roots is None
    assert access_config({"access": {"data_roots": []}}).data_roots == ()
    assert access_config({"access": {"data_roots": ["/data/us "]}}).data_roots == ("/data/us",)


def test_sign_in_providers():
    assert sign_in_providers(AUTH) == (None,)
    assert sign_in_providers({"redirect_uri": "r", "cookie_secret": "s", "okta": {"client_id": "a"},
                              "microsoft": {"client_id": "b"}}) == ("okta", "microsoft")
