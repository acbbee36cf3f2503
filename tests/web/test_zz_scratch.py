from __future__ import annotations

from app.orgs.models import Role
from tests.conftest import csrf_token


def test_x(app, client, session, make_org, make_staff, make_creator, policy_of, caplog):
    org = make_org("adpare")
    make_staff(org, Role.FACILITATOR)
    tok = csrf_token(client, "/sign-in")
    rv = client.post(
        "/sign-in",
        data={"csrf_token": tok, "login_name": "adpare-facilitator", "password": "wrong password"},
    )
    print("wrong", rv.status_code)
    rv = client.post("/sign-in", data={"csrf_token": tok, "login_name": "", "password": ""})
    print("empty", rv.status_code)
    rv = client.post(
        "/join", data={"csrf_token": tok, "code": "", "login_name": "", "password": ""}
    )
    print("join empty", rv.status_code)
    print(caplog.text[-3000:])
