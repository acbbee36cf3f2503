"""Media policies: the shipped files, every kind of bad file, and the CLI."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from app.core.errors import PolicyError
from app.policies import (
    CampaignStage,
    CreditMode,
    FaceAction,
    MediaPolicy,
    PolicyRegistry,
    VoiceAction,
    WorkKind,
    load_policies,
    load_policy,
)
from app.policies.cli import policies

SHIPPED = Path(__file__).resolve().parents[2] / "media_policies"
SLUGS = ("adpare", "equality", "fundacion-cruz-blanca", "mist", "payoke")


def set_key(text: str, dotted: str, raw: str | None) -> str:
    """Set ``section.key`` to the TOML value ``raw`` (``None`` drops the key)."""
    section, key = dotted.split(".")
    lines = text.splitlines()
    start = lines.index(f"[{section}]") + 1
    end = next(
        (i for i in range(start, len(lines)) if lines[i].startswith("[")),
        len(lines),
    )
    for i in range(start, end):
        if re.match(rf"{re.escape(key)}\s*=", lines[i]):
            if raw is None:
                del lines[i]
            else:
                lines[i] = f"{key} = {raw}"
            break
    else:
        assert raw is not None, f"{dotted} is not in the file"
        lines.insert(start, f"{key} = {raw}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def write_policy(tmp_path: Path) -> Callable[..., Path]:
    """Write a (modified) copy of a shipped policy into ``tmp_path``."""

    def write(
        source: str = "payoke",
        *,
        name: str | None = None,
        edits: dict[str, str | None] | None = None,
        text: str | None = None,
    ) -> Path:
        body = (SHIPPED / f"{source}.toml").read_text(encoding="utf-8") if text is None else text
        for dotted, raw in (edits or {}).items():
            body = set_key(body, dotted, raw)
        path = tmp_path / f"{name or source}.toml"
        path.write_text(body, encoding="utf-8")
        return path

    return write


# The shipped files


def test_shipped_policies_all_load() -> None:
    registry = load_policies(SHIPPED)
    assert registry.slugs == SLUGS
    assert len(registry) == 5
    assert [policy.slug for policy in registry] == list(SLUGS)


def test_payoke_never_publishes_faces_and_only_altered_voices() -> None:
    payoke = load_policies(SHIPPED).get("payoke")
    assert payoke.organisation.country == "BE"
    assert payoke.faces.allowed is False
    assert payoke.faces.on_detection is FaceAction.MASK
    assert payoke.voices.allowed is True
    assert payoke.voices.must_alter is True
    assert payoke.voices.on_detection is VoiceAction.ALTER
    assert payoke.review.approvals_required == 2


def test_mist_requires_group_rules() -> None:
    mist = load_policy(SHIPPED / "mist.toml")
    assert mist.groups.rules_required is True
    assert "pseudonym" in mist.groups.default_rules
    assert WorkKind.PODCAST in mist.works.kinds


def test_cruz_blanca_goes_through_all_five_stages() -> None:
    policy = load_policy(SHIPPED / "fundacion-cruz-blanca.toml")
    assert policy.organisation.name == "Fundación Cruz Blanca"
    assert policy.campaign.stages == tuple(CampaignStage)
    assert policy.campaign.stages[0] == "idea"


def test_adpare_and_equality_allow_faces_and_voices_with_consent() -> None:
    registry = load_policies(SHIPPED)
    for slug in ("adpare", "equality"):
        policy = registry.get(slug)
        assert policy.faces.allowed is True
        assert policy.voices.allowed is True
        assert policy.voices.must_alter is False
    assert registry.get("adpare").works.kinds == (WorkKind.FANZINE, WorkKind.PERFORMANCE)


def test_shipped_policies_differ_where_it_matters() -> None:
    registry = load_policies(SHIPPED)
    for policy in registry:
        assert "gallery" in policy.publication.channels
        assert policy.credit.default in policy.credit.modes
        assert 30 <= policy.retention.originals_days <= 90
    assert len({policy.retention.originals_days for policy in registry}) > 1
    assert sum(policy.pdf.rasterise for policy in registry) >= 4
    assert registry.get("equality").credit.default is CreditMode.PSEUDONYM


def test_shipped_files_start_with_a_comment_header() -> None:
    for slug in SLUGS:
        assert (SHIPPED / f"{slug}.toml").read_text(encoding="utf-8").startswith("# ")


# The registry and the models


def test_registry_lookup() -> None:
    registry = load_policies(SHIPPED)
    assert "mist" in registry
    assert "nope" not in registry
    with pytest.raises(KeyError, match="nope"):
        registry.get("nope")


def test_registry_sorts_and_refuses_duplicates() -> None:
    shipped = load_policies(SHIPPED)
    registry = PolicyRegistry(tuple(reversed(shipped.policies)))
    assert registry.slugs == SLUGS
    with pytest.raises(ValueError, match="payoke"):
        PolicyRegistry((shipped.get("payoke"), shipped.get("payoke")))


def test_registry_and_policies_are_frozen() -> None:
    registry = load_policies(SHIPPED)
    payoke = registry.get("payoke")
    with pytest.raises(AttributeError):
        registry.policies = ()  # type: ignore[misc]
    with pytest.raises(ValidationError):
        payoke.faces.allowed = True
    assert isinstance(payoke.publication.channels, tuple)
    assert hash(payoke) == hash(load_policy(SHIPPED / "payoke.toml"))


def test_policy_dumps_to_plain_json() -> None:
    dumped = load_policy(SHIPPED / "payoke.toml").model_dump(mode="json")
    assert dumped["slug"] == "payoke"
    assert dumped["faces"] == {"allowed": False, "on_detection": "mask"}
    assert MediaPolicy.model_validate_json(json.dumps(dumped)).slug == "payoke"


# Bad files: each message names the file, the key and the problem

BAD_EDITS = [
    pytest.param({"faces.colour": '"red"'}, "faces.colour", "unknown key", id="unknown-nested"),
    pytest.param(
        {"faces.allowed": '"yes"'}, "faces.allowed", "must be true or false", id="str-bool"
    ),
    pytest.param(
        {"review.approvals_required": '"3"'},
        "review.approvals_required",
        "must be a whole number",
        id="str-int",
    ),
    pytest.param(
        {"review.approvals_required": "2.0"},
        "review.approvals_required",
        "must be a whole number",
        id="float-int",
    ),
    pytest.param({"works.kinds": "3"}, "works.kinds", "must be a list", id="int-list"),
    pytest.param({"organisation.name": "7"}, "organisation.name", "must be text", id="int-str"),
    pytest.param(
        {"review.approvals_required": None},
        "review.approvals_required",
        "missing key",
        id="missing",
    ),
    pytest.param(
        {"faces.on_detection": '"hide"'},
        "faces.on_detection",
        "must be one of 'block', 'mask', not 'hide'",
        id="enum",
    ),
    pytest.param(
        {"works.kinds": '["fanzine", "video"]'},
        "works.kinds[1]",
        "must be one of 'fanzine', 'performance', 'podcast', 'script', not 'video'",
        id="enum-in-list",
    ),
    pytest.param(
        {"review.approvals_required": "0"},
        "review.approvals_required",
        "must be at least 1, not 0",
        id="approvals-0",
    ),
    pytest.param(
        {"limits.max_upload_mb": "5000"},
        "limits.max_upload_mb",
        "must be at most 4096, not 5000",
        id="too-big",
    ),
    pytest.param({"works.kinds": "[]"}, "works.kinds", "must not be empty", id="empty-list"),
    pytest.param(
        {"works.kinds": '["podcast", "podcast"]'},
        "works.kinds",
        "lists 'podcast' twice",
        id="duplicate",
    ),
    pytest.param(
        {"organisation.country": '"be"'},
        "organisation.country",
        "must be two capital letters",
        id="country",
    ),
    pytest.param(
        {"organisation.languages": '["NL"]'},
        "organisation.languages[0]",
        "must be two lower-case letters",
        id="language",
    ),
    pytest.param(
        {"publication.channels": '["kiosk"]'},
        "publication.channels",
        "must include 'gallery'",
        id="no-gallery",
    ),
    pytest.param(
        {"publication.channels": '["gallery", "Web Site"]'},
        "publication.channels[1]",
        "lower-case letters, digits or '_'",
        id="channel-name",
    ),
    pytest.param(
        {"credit.default": '"pseudonym"'},
        "credit.default",
        "must be one of credit.modes ('collective', 'none'), not 'pseudonym'",
        id="credit-default",
    ),
    pytest.param(
        {"voices.on_detection": '"block"'},
        "voices.on_detection",
        "must be 'alter' when voices.must_alter is true",
        id="must-alter",
    ),
    pytest.param(
        {"groups.rules_required": "true"},
        "groups.default_rules",
        "must not be empty when groups.rules_required is true",
        id="rules-required",
    ),
    pytest.param(
        {"campaign.stages": '["testing", "idea"]'},
        "campaign.stages",
        "must keep the order idea",
        id="stage-order",
    ),
    pytest.param(
        {"content_warnings.default": '["trafficking", ""]'},
        "content_warnings.default[1]",
        "must not be empty",
        id="empty-warning",
    ),
]


@pytest.mark.parametrize(("edits", "key", "problem"), BAD_EDITS)
def test_bad_value_is_named(
    write_policy: Callable[..., Path], edits: dict[str, str | None], key: str, problem: str
) -> None:
    path = write_policy(edits=edits)
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    message = caught.value.message
    assert "payoke.toml" in message
    assert key in message
    assert problem in message
    assert "pydantic" not in message
    assert "\n" not in message


def test_unknown_top_level_key(write_policy: Callable[..., Path]) -> None:
    text = (SHIPPED / "payoke.toml").read_text(encoding="utf-8")
    path = write_policy(text='colour = "red"\n' + text)
    with pytest.raises(PolicyError, match=r"payoke\.toml: unknown key 'colour'"):
        load_policy(path)


def test_unknown_section(write_policy: Callable[..., Path]) -> None:
    text = (SHIPPED / "payoke.toml").read_text(encoding="utf-8")
    path = write_policy(text=text + "\n[face]\nallowed = true\n")
    with pytest.raises(PolicyError, match=r"payoke\.toml: unknown section \[face\]"):
        load_policy(path)


def test_missing_section(write_policy: Callable[..., Path]) -> None:
    text = (SHIPPED / "payoke.toml").read_text(encoding="utf-8")
    path = write_policy(text=text.replace("[limits]\nmax_upload_mb = 200\n", ""))
    with pytest.raises(PolicyError, match=r"payoke\.toml: missing section \[limits\]"):
        load_policy(path)


def test_section_that_is_not_a_table(write_policy: Callable[..., Path]) -> None:
    text = (SHIPPED / "payoke.toml").read_text(encoding="utf-8")
    path = write_policy(text='pdf = "yes"\n' + text.replace("[pdf]\nrasterise = true\n", ""))
    with pytest.raises(PolicyError, match=r"pdf: must be a table"):
        load_policy(path)


def test_slug_in_file_is_refused(write_policy: Callable[..., Path]) -> None:
    text = (SHIPPED / "payoke.toml").read_text(encoding="utf-8")
    path = write_policy(text='slug = "other"\n' + text)
    with pytest.raises(PolicyError, match=r"payoke\.toml: unknown key 'slug'"):
        load_policy(path)


def test_several_problems_are_all_listed(write_policy: Callable[..., Path]) -> None:
    path = write_policy(
        edits={
            "faces.on_detection": '"hide"',
            "review.approvals_required": "0",
            "pdf.rasterise": '"yes"',
        }
    )
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    first, *rest = caught.value.message.splitlines()
    assert "payoke.toml" in first
    assert "3 problems" in first
    assert [line.split(":")[0].strip() for line in rest] == [
        "faces.on_detection",
        "review.approvals_required",
        "pdf.rasterise",
    ]


def test_invalid_toml(write_policy: Callable[..., Path]) -> None:
    path = write_policy(text="[faces\nallowed = true\n")
    with pytest.raises(PolicyError, match=r"payoke\.toml: not valid TOML: .*line 1"):
        load_policy(path)


def test_non_utf8_bytes(tmp_path: Path) -> None:
    path = tmp_path / "payoke.toml"
    path.write_bytes((SHIPPED / "payoke.toml").read_bytes().replace(b"Payoke", b"Pay\xf6ke"))
    with pytest.raises(PolicyError, match=r"payoke\.toml: not UTF-8 text \(byte 0xf6"):
        load_policy(path)


def test_unreadable_file(tmp_path: Path) -> None:
    (tmp_path / "payoke.toml").mkdir()
    with pytest.raises(PolicyError, match=r"payoke\.toml: cannot be read"):
        load_policy(tmp_path / "payoke.toml")


@pytest.mark.parametrize("name", ["Payoke", "a", "under_score", "-dash", "x" * 40])
def test_bad_file_name(write_policy: Callable[..., Path], name: str) -> None:
    path = write_policy(name=name)
    with pytest.raises(PolicyError, match=rf"{re.escape(name)}\.toml: file name .* not a valid"):
        load_policy(path)


def test_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="no media policy files"):
        load_policies(tmp_path)


def test_folder_without_toml_files(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("policies go here\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="no media policy files"):
        load_policies(tmp_path)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="not a folder"):
        load_policies(tmp_path / "absent")


def test_folder_reports_every_bad_file(write_policy: Callable[..., Path], tmp_path: Path) -> None:
    write_policy("adpare")
    write_policy("mist", edits={"groups.rules_required": '"yes"'})
    write_policy("payoke", edits={"review.approvals_required": "0"})
    with pytest.raises(PolicyError) as caught:
        load_policies(tmp_path)
    message = caught.value.message
    assert "adpare" not in message
    assert "mist.toml: groups.rules_required: must be true or false" in message
    assert "payoke.toml: review.approvals_required: must be at least 1" in message


def test_path_is_shown_relative_to_current_folder(
    write_policy: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_policy(edits={"faces.allowed": '"no"'})
    monkeypatch.chdir(tmp_path.parent)
    with pytest.raises(PolicyError, match=rf"^{re.escape(tmp_path.name)}/payoke\.toml: "):
        load_policy(path)


# The CLI


def test_cli_check_good_folder() -> None:
    result = CliRunner().invoke(policies, ["check", str(SHIPPED)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines == [
        "ok  adpare  ADPARE",
        "ok  equality  Equality",
        "ok  fundacion-cruz-blanca  Fundación Cruz Blanca",
        "ok  mist  MIST",
        "ok  payoke  Payoke",
    ]
    assert result.stderr == ""


def test_cli_check_bad_folder(write_policy: Callable[..., Path], tmp_path: Path) -> None:
    write_policy("adpare")
    write_policy(edits={"faces.on_detection": '"hide"'})
    result = CliRunner().invoke(policies, ["check", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == ["ok  adpare  ADPARE"]
    assert "payoke.toml: faces.on_detection: must be one of 'block', 'mask', not 'hide'" in (
        result.stderr
    )
    assert "1 of 2 policy files have problems" in result.stderr


def test_cli_check_empty_folder(tmp_path: Path) -> None:
    result = CliRunner().invoke(policies, ["check", str(tmp_path)])
    assert result.exit_code == 1
    assert "no media policy files" in result.stderr


def test_cli_check_defaults_to_configured_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "policies"
    folder.mkdir()
    shutil.copy(SHIPPED / "mist.toml", folder / "mist.toml")
    monkeypatch.setenv("CHORUS_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("CHORUS_POLICIES_DIR", str(folder))
    result = CliRunner().invoke(policies, ["check"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "ok  mist  MIST\n"


def test_cli_show() -> None:
    result = CliRunner().invoke(policies, ["show", "payoke", "--folder", str(SHIPPED)])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["slug"] == "payoke"
    assert shown["voices"] == {"allowed": True, "must_alter": True, "on_detection": "alter"}


def test_cli_show_unknown_slug() -> None:
    result = CliRunner().invoke(policies, ["show", "nope", "--folder", str(SHIPPED)])
    assert result.exit_code == 1
    assert "no policy named 'nope'" in result.stderr
