"""From events to messages at a real SMTP server: both parts, the headers, the links."""

from __future__ import annotations

from nrn_contracts.events import accounts as acc

from notifications.testing import later, question_submitted


async def test_a_question_tells_the_official_and_the_triage_lead_with_both_parts(svc, first) -> None:
    await svc.publish(question_submitted())
    receipt = await svc.eventually(lambda: first(svc, "olive@flint.example", "We received"))
    lead = await svc.eventually(lambda: first(svc, "lead-1@nrn.example"))
    msg = receipt.message
    assert msg["Subject"] == "We received your question: How do we fund lead pipe replacement?"
    assert msg["To"].addresses[0].addr_spec == "olive@flint.example"
    assert msg["From"].addresses[0].addr_spec == "notifications@nrn.example"
    assert msg["Message-ID"].startswith("<") and msg["Message-ID"].endswith("@nrn.example>")
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["List-Unsubscribe"].startswith("<https://nrn.example/unsubscribe?token=")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "https://nrn.example/requests/req-1" in text and 'href="https://nrn.example/requests/req-1"' in html
    assert "Hello Olive Official" in text and "#0b4f8a" in html
    assert "New question from Flint" in lead.message["Subject"]
    assert "https://nrn.example/staff/requests/req-1" in lead.message.get_body(("plain",)).get_content()
    # neither another city's official, nor staff whose roles do not read requests
    assert not svc.smtp.to("gus@gary.example") and not svc.smtp.to("cur-1@nrn.example")


async def test_confirmation_and_reset_links_arrive_without_unsubscribe(svc, first) -> None:
    token = "A" * 43
    await svc.publish(
        acc.MailboxConfirmationRequested(account_id="off-9", email="new@flint.example", name="New Person",
                                         token=token, expires_at=later(hours=24)),
        acc.PasswordResetRequested(account_id="off-1", email="olive@flint.example", name="Olive Official",
                                   token="B" * 43, expires_at=later(hours=1)))
    confirm = await svc.eventually(lambda: first(svc, "new@flint.example"))
    reset = await svc.eventually(lambda: first(svc, "olive@flint.example", "Reset"))
    assert f"https://nrn.example/confirm-email?token={token}" in confirm.message.get_body(("plain",)).get_content()
    assert "https://nrn.example/reset-password?token=" + "B" * 43 in reset.message.get_body(("html",)).get_content()
    assert confirm.message["List-Unsubscribe"] is None and reset.message["List-Unsubscribe"] is None
    # the single-use secrets never rest in an in-page notice, nor in the outbox once sent
    titles = [n["title"] for n in (await svc.notices("off-1"))["items"]]
    assert titles == ["Your account is verified: you can now ask questions for Flint."]
    sent = await svc.eventually(lambda: svc.db.mail.find_one({"to": "new@flint.example", "state": "sent"}))
    assert "context" not in sent


async def test_a_pending_official_is_asked_for_more_then_told_why_the_sign_up_was_refused(svc, first) -> None:
    at = later(hours=0)
    await svc.publish(
        acc.AccountInformationRequested(account_id="off-1", city_id="mi-flint", by="adm-1", at=at,
                                        message="Please send your city hall phone number."),
        acc.AccountRejected(account_id="off-1", city_id="mi-flint", by="adm-1", at=at,
                            reason="The city clerk says you do not work for Flint."))
    asked = await svc.eventually(lambda: first(svc, "olive@flint.example", "needs more"))
    refused = await svc.eventually(lambda: first(svc, "olive@flint.example", "could not verify"))
    assert "Please send your city hall phone number." in asked.message.get_body(("plain",)).get_content()
    assert "Reply to this email" in asked.message.get_body(("html",)).get_content()
    assert "The city clerk says you do not work for Flint." in refused.message.get_body(("plain",)).get_content()
    assert asked.message["List-Unsubscribe"] is None  # account messages cannot be turned off
