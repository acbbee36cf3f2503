"""A campaign script in Markdown. A text file has no metadata to plant; what it can
carry is personal data in the words themselves, which Chorus flags for the reviewer
(it never rewrites what people wrote)."""

from __future__ import annotations

from app.demo.media.planted import EMAIL, PHONE, DemoFile

SCENE = """\
# The crossing

*A short scene for two voices, read on the radio.*

**A:** When I arrived I had one bag and no words for the things I needed.

**B:** And now?

**A:** Now I have a group. We meet on Thursdays, we make things, and we laugh
more than I expected.

**B:** What would you tell someone who is where you were?

**A:** That leaving is not the end of the story. That there are people who will
listen, without asking you to prove anything.
"""

CONTACT = f"""
---

Rehearsals: write to {EMAIL} or call {PHONE} before Thursday.
"""


def script(*, personal_data: bool = True) -> DemoFile:
    """The script, with a rehearsal contact (an e-mail address and a phone number)
    added at the end unless ``personal_data`` is False."""
    text = SCENE + (CONTACT if personal_data else "")
    return DemoFile("the-crossing.md", text.encode())
