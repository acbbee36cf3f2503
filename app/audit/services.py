"""Writing and verifying the audit log.

Events carry ids and states only — never names, captions, file names or anything a
detector said about a person.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import GENESIS_HASH, AuditEvent, AuditHead
from app.core.actors import Actor, actor_ref
from app.core.clock import utcnow


def event_hash(event: AuditEvent) -> str:
    """sha256 over the previous hash and a canonical JSON form of the event."""
    body = {
        "seq": event.seq,
        "occurred_at": event.occurred_at.isoformat(timespec="microseconds"),
        "actor_kind": event.actor_kind,
        "actor_id": event.actor_id,
        "organisation_id": event.organisation_id,
        "action": event.action,
        "subject_type": event.subject_type,
        "subject_id": event.subject_id,
        "data": event.data,
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256((event.prev_hash + canonical).encode("ascii")).hexdigest()


def _head(session: Session) -> AuditHead:
    head = session.scalars(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
    if head is None:
        head = AuditHead(id=1, last_seq=0, last_hash=GENESIS_HASH)
        session.add(head)
        session.flush()
    return head


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: int | None,
    organisation_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain and flush. The caller's transaction commits it
    together with the change it describes, so neither exists without the other."""
    actor_kind, actor_id = actor_ref(actor)
    head = _head(session)
    event = AuditEvent(
        seq=head.last_seq + 1,
        occurred_at=utcnow(),
        actor_kind=actor_kind,
        actor_id=actor_id,
        organisation_id=organisation_id,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        data=data or {},
        prev_hash=head.last_hash,
    )
    event.hash = event_hash(event)
    head.last_seq = event.seq
    head.last_hash = event.hash
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True, slots=True)
class Verification:
    events: int
    problems: list[str]

    @property
    def intact(self) -> bool:
        return not self.problems


def verify(session: Session) -> Verification:
    """Walk the whole chain and report every event that was modified, inserted or deleted."""
    problems: list[str] = []
    expected_prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.seq)):
        count += 1
        if event.seq != expected_seq:
            problems.append(
                f"events {expected_seq} to {event.seq - 1} are missing (deleted)"
                if event.seq > expected_seq
                else f"event {event.seq} is out of order"
            )
        elif event.prev_hash != expected_prev:
            problems.append(
                f"event {event.seq} does not follow event {event.seq - 1} "
                "(an event was inserted or replaced)"
            )
        if event_hash(event) != event.hash:
            problems.append(f"event {event.seq} was modified after it was written")
        expected_prev = event.hash
        expected_seq = event.seq + 1
    head = session.get(AuditHead, 1)
    last_seq = expected_seq - 1
    if head is not None and (head.last_seq != last_seq or head.last_hash != expected_prev):
        if head.last_seq > last_seq:
            problems.append(f"events {last_seq + 1} to {head.last_seq} are missing (deleted)")
        else:
            problems.append("the newest events do not match the recorded head of the log")
    elif head is None and count:
        problems.append("the head of the log is missing")
    return Verification(events=count, problems=problems)
