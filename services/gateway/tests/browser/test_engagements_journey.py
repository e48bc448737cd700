"""Direct technical assistance in a real browser, every role through its own pages.

An official drafts the city's application (saved as she types), leaves, comes back and goes on; a
colleague edits the same draft at the same time and is shown what she changed, side by side, to
choose from; the preview lists what is missing with links; she attaches the sponsor's letter and
submits. A program manager screens it and assigns two reviewers; each scores it against the rubric
(seeing the other's score only after submitting); the program manager accepts it within the
funding round; the engagement's team records the assessment and proposes a work plan, which the
official comments on and agrees; milestones are done, the close-out report is written, and the
official confirms it and consents to its publication. The official hears the decision in her
notification centre (and by e-mail), and the notice opens the application.
Screenshots at 1280 and 390 px: artifacts/screenshots/engagements-*.png."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from nrn_kit.localtime import program_today

from gateway.testing import DESKTOP, PHONE, Platform, engagements_installed, eventually, new_page, shoot, sign_in

pytestmark = [pytest.mark.integration, pytest.mark.browser,
              pytest.mark.skipif(not engagements_installed(), reason="the engagements service is not installed")]

PDF = (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>"
       b"\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")



async def saved(page, typing) -> None:  # noqa: ANN001
    """Type (`typing`, a coroutine), then wait until the autosave of it has come back."""
    from playwright.async_api import expect

    status = page.locator("#save-status")
    before = await status.get_attribute("data-version")
    await typing
    await expect(status).not_to_have_attribute("data-version", before or "", timeout=30_000)
    text = await status.inner_text()
    assert not text.strip().startswith("Not saved"), text


async def engagements_know(platform: Platform, city_id: str, *people: str) -> None:
    """engagements learns cities and people from accounts' events; wait until it has."""
    db = platform.apps["engagements"].state.runtime.db

    async def known() -> bool:
        city = await db.cities.find_one({"_id": city_id, "name": {"$exists": True}, "eligible": {"$exists": True}})
        found = await db.people.count_documents({"_id": {"$in": list(people)}, "name": {"$exists": True}})
        return city is not None and found == len(people)

    await eventually(known)


async def test_apply_review_decide_plan_and_close_out(platform: Platform, browser, shots: Path) -> None:  # noqa: ANN001
    problems: list[str] = []
    admin = await platform.admin()
    await platform.import_cities(admin)
    pm = await platform.create_staff(admin, "Pat Manager", ["program_manager", "triage_lead"])
    rita = await platform.create_staff(admin, "Rita Reviewer", ["reviewer"])
    rob = await platform.create_staff(admin, "Rob Reviewer", ["reviewer"])
    erin = await platform.create_staff(admin, "Erin Expert", ["subject_matter_expert"], ["housing"])
    olive, _ = await platform.verified_official(admin, "mi-flint", "Olive Official")
    oscar, _ = await platform.verified_official(admin, "mi-flint", "Oscar Official")
    pm_api = await platform.auth(pm["email"], pm["password"])
    # the program's day, as engagements counts it (US Eastern), not the machine's UTC date: between
    # midnight UTC and midnight Eastern a visit dated the UTC day is in the future for the service
    today = program_today()
    created = await platform.http.post("/api/v1/rounds", headers=pm_api, json={
        "name": f"{today.year} round", "opens_on": (today - timedelta(days=30)).isoformat(), "capacity": 10})
    assert created.status_code == 201, created.text
    await engagements_know(platform, "mi-flint", olive["account_id"], oscar["account_id"], rita["account_id"],
                           rob["account_id"], erin["account_id"])

    # --- the official starts a draft on her phone, leaves and comes back -------------------------------------
    o = await new_page(browser, platform, problems, **PHONE)
    await sign_in(o, olive["email"], olive["password"])
    await o.get_by_role("heading", name="Direct assistance").wait_for()  # the dashboard's section
    await shoot(o, shots, "engagements-01-official-dashboard")
    await o.get_by_role("link", name="Direct assistance").first.click()
    await o.get_by_role("button", name="Start an application").click()
    await o.get_by_role("heading", name="Apply for direct technical assistance").wait_for()

    async def background() -> None:
        await o.get_by_label("Lead official's name").fill("Karen Weaver")
        await o.get_by_label("Lead official's title").fill("Mayor")
        await o.get_by_label("Executive sponsor's name").fill("Karen Weaver")

    await saved(o, background())
    await o.goto("/")  # she leaves ...
    await o.goto("/applications")  # ... and comes back later
    await o.get_by_role("link", name=re.compile("Application started")).click()
    assert await o.get_by_label("Lead official's name").input_value() == "Karen Weaver"

    # --- a colleague opens the same draft; both change the sponsor's title --------------------------------------
    c = await new_page(browser, platform, problems, **DESKTOP)
    await sign_in(c, oscar["email"], oscar["password"])
    await c.goto(o.url.split("#")[0].replace(platform.gateway, ""))
    await saved(o, o.get_by_label("Executive sponsor's title").fill("Mayor"))
    await c.get_by_label("Executive sponsor's title").fill("City manager")
    await c.get_by_label("Stakeholders already enlisted").fill("Flint Area Reinvestment Office\nCommunity Foundation")
    await c.get_by_role("heading", name="Someone else changed this while you were editing").wait_for()
    assert "Olive Official" in await c.locator("#merge-panel").inner_text()
    await shoot(c, shots, "engagements-02-someone-else-changed-this")
    await c.get_by_label(re.compile("Keep Olive Official's version")).check()
    await c.get_by_role("button", name="Save these choices").click()
    await c.get_by_text("Kept the other person's version").wait_for()
    assert await c.get_by_label("Executive sponsor's title").input_value() == "Mayor"
    assert "Community Foundation" in await c.get_by_label("Stakeholders already enlisted").input_value()

    # --- the official completes the form; the preview names what is missing ------------------------------------
    await o.reload()

    async def the_rest() -> None:
        await o.get_by_label("The executive sponsor's commitment").fill(
            "The mayor commits two senior staff for the whole engagement and will take the plan to council in 90 days.")
        await o.get_by_label("Housing", exact=True).check()
        await o.get_by_label("What the city faces: housing").fill("Over 6,000 vacant homes; demolitions cannot keep up.")
        await o.get_by_label("Workforce", exact=True).check()
        await o.get_by_label("What the city faces: workforce").fill("Training programs do not match the remaining jobs.")
        await o.get_by_label("Day-to-day project manager's name").fill("Jordan Lee")
        await o.get_by_label("Day-to-day project manager's title").fill("Director of Planning")
        await o.get_by_label("Day-to-day project manager's email").fill("jordan.lee@cityofflint.example")
        await o.get_by_label("Timeline wanted").select_option("9")
        await o.get_by_label("Start wanted").fill((today + timedelta(days=40)).isoformat())
        await o.get_by_label("The city commits its 25% match").check()
        await o.get_by_label("Connect us with peer cities facing similar challenges").check()

    await saved(o, the_rest())
    await o.get_by_role("button", name="Save and preview").click()
    await o.get_by_role("heading", name="Preview your application").wait_for()
    await o.get_by_role("button", name="Submit the application").click()
    summary = o.locator("#error-summary")
    await summary.wait_for()
    assert "letter of commitment" in await summary.inner_text()
    assert "How the city will pay its 25% local match" in await summary.inner_text()
    await shoot(o, shots, "engagements-03-preview-with-what-is-missing")
    await summary.get_by_role("link", name=re.compile("How the city will pay")).click()
    await saved(o, o.get_by_label("How the city will pay its 25% local match").fill(
        "The general fund's development line."))
    await o.get_by_label("What is it?").select_option("sponsor_letter")
    await o.get_by_label("File").set_input_files({"name": "Letter of commitment.pdf", "mimeType": "application/pdf",
                                                  "buffer": PDF})
    await o.get_by_role("button", name="Attach the file").click()
    await o.get_by_text("Attached Letter of commitment.pdf").wait_for()
    await shoot(o, shots, "engagements-04-application-form")
    await o.get_by_role("link", name="Preview the whole application").click()
    await o.get_by_text("Everything needed is there").wait_for()
    await o.get_by_role("button", name="Submit the application").click()
    await o.get_by_text("Your application is submitted").wait_for()
    await shoot(o, shots, "engagements-05-submitted")

    # --- staff: screen, assign two reviewers ---------------------------------------------------------------------
    s = await new_page(browser, platform, problems, **DESKTOP)
    await sign_in(s, pm["email"], pm["password"])
    await s.goto("/staff/applications")
    await s.get_by_role("link", name="Flint, MI").click()
    await s.get_by_label("Eligible: send to reviewers").check()
    await s.get_by_role("button", name="Record the check").click()
    for name in ("Rita Reviewer", "Rob Reviewer"):
        await s.get_by_label("Assign a reviewer").select_option(label=name)
        await s.get_by_role("button", name="Assign", exact=True).click()
        await s.get_by_text("Reviewer assigned.").wait_for()
    await shoot(s, shots, "engagements-06-review-page")
    review_url = s.url.replace(platform.gateway, "")

    # --- two reviewers score against the rubric ------------------------------------------------------------------
    for reviewer, points in ((rita, {"need": 5, "commitment": 4, "capacity": 4, "fit": 4, "impact": 3}),
                             (rob, {"need": 3, "commitment": 2, "capacity": 3, "fit": 3, "impact": 2})):
        r = await new_page(browser, platform, problems, **DESKTOP)
        await sign_in(r, reviewer["email"], reviewer["password"])
        await r.goto("/staff/applications")
        await r.get_by_role("link", name="Flint, MI").click()
        if reviewer is rita:
            await shoot(r, shots, "engagements-07-reviewer-scoring")
        for criterion, point in points.items():
            await r.locator(f'input[name="score:{criterion}"][value="{point}"]').check()
        await r.get_by_role("button", name="Submit my score").click()
        await r.get_by_text("Your score is submitted").wait_for()
        if reviewer is rob:
            await r.get_by_text("The reviewers disagree").wait_for()  # 4.10 against 2.60
            await shoot(r, shots, "engagements-08-scores-after-submitting")
        await r.context.close()

    # --- the program manager accepts within the round ----------------------------------------------------------
    await s.goto(review_url)
    await s.get_by_label("Accept").check()
    await s.get_by_label(re.compile("^Reason")).fill("Strong sponsor commitment and a clear need; reviewers agreed "
                                                     "after discussing capacity.")
    await s.get_by_label("Scope").fill("A land bank strategy and a workforce plan tied to the jobs that remain.")
    await s.get_by_label("Budget in dollars").fill("250,000")
    await s.get_by_label("Starts on").fill((today + timedelta(days=30)).isoformat())
    await shoot(s, shots, "engagements-09-decision")
    await s.get_by_role("button", name="Record the decision").click()
    await s.get_by_text("Accepted: the engagement is open.").wait_for()
    await s.get_by_role("link", name="Go to the engagement").click()

    # --- the official hears the decision: a notice in her notification centre that opens the application ------------
    decision = o.get_by_role("link", name=re.compile(r"^Flint, MI's application for direct assistance was accepted"))

    async def told() -> bool:
        await o.goto("/notifications")
        return await decision.count() == 1

    await eventually(told, timeout=60)
    await o.get_by_role("link", name=re.compile(r"^Flint, MI's application for direct assistance is submitted")).wait_for()
    await shoot(o, shots, "engagements-09b-official-decision-notice")
    await decision.click()
    await o.wait_for_url(re.compile(r"/applications/[^/?#]+$"))
    assert o.url.endswith(review_url.replace("/staff", "")), o.url
    if platform.smtp is not None:  # the same decision by e-mail, as her mail client shows it
        async def mailed():  # noqa: ANN202
            return [r for r in platform.smtp.to(olive["email"]) if str(r.message["Subject"]).startswith("Accepted:")]

        (received,) = await eventually(mailed, timeout=60)
        mail = await browser.new_page(java_script_enabled=False)
        await mail.set_content(received.message.get_body(("html",)).get_content())
        await shoot(mail, shots, "engagements-09c-official-decision-email")
        await mail.close()

    # --- the engagement: team, assessment, work plan --------------------------------------------------------------
    await s.get_by_label("Erin Expert", exact=True).check()
    await s.get_by_label("Erin Expert's role").fill("Engagement lead")
    await s.get_by_role("button", name="Save the team").click()
    await s.get_by_text("The team is saved.").wait_for()
    await s.get_by_label("Visited on").fill(today.isoformat())
    await s.get_by_label("Findings: housing").fill("Vacancy is concentrated in three wards.")
    await s.get_by_label("Findings: workforce").fill("No pipeline from training to the remaining employers.")
    await s.get_by_label(re.compile("^Strengths")).fill("An active land bank\nAn engaged community foundation")
    await s.get_by_role("button", name="Record the assessment").click()
    await s.get_by_text("The assessment is recorded.").wait_for()
    start = today + timedelta(days=30)
    for i, (title, owner, days) in enumerate((("Vacancy inventory", "City planning department", 45),
                                              ("Land bank strategy", "Erin Expert", 150))):
        await s.get_by_label("Title").nth(i).fill(title)
        await s.get_by_label("Owner").nth(i).fill(owner)
        await s.get_by_label("Due on").nth(i).fill((start + timedelta(days=days)).isoformat())
    await s.get_by_role("button", name="Propose the plan to the city").click()
    await s.get_by_text("The work plan is proposed").wait_for()
    engagement_path = s.url.replace(platform.gateway, "").replace("/staff", "")

    # --- the official comments on the plan, then agrees it -----------------------------------------------------------
    await o.goto(engagement_path)
    await o.get_by_label("Your comment on the work plan").fill("Can the inventory include commercial parcels?")
    await o.get_by_role("button", name="Send the comment").click()
    await o.get_by_text("Your comment is sent").wait_for()
    await shoot(o, shots, "engagements-10-official-work-plan")
    await o.get_by_role("button", name="Agree the work plan").click()
    await o.get_by_text("You agreed the work plan").wait_for()

    # --- staff: milestones done, close-out report ------------------------------------------------------------------
    await s.reload()
    for title in ("Vacancy inventory", "Land bank strategy"):
        await s.get_by_role("button", name=f"Mark done {title}").click()
        await s.get_by_text("Milestone completed.").wait_for()
    await s.get_by_label(re.compile("^Final report")).fill(
        "## Outcomes\n\nFlint has a vacancy inventory and a land bank strategy adopted by council.")
    await shoot(s, shots, "engagements-11-staff-engagement")
    await s.get_by_role("button", name="Send the close-out to the city").click()
    await s.get_by_text("The close-out report is ready").wait_for()

    # --- the official confirms the close-out and consents to publication --------------------------------------------
    await o.goto(engagement_path)
    await o.get_by_label("Yes, with our city's name").check()
    await o.get_by_role("button", name="Confirm the close-out").click()
    await o.get_by_text("the engagement is closed").wait_for()
    await shoot(o, shots, "engagements-12-closed")
    await o.goto("/")
    await shoot(o, shots, "engagements-13-dashboard-after")

    # the staff list says which check-ins are due; nothing broke on the way
    await s.goto("/staff/engagements?view=closed")
    await s.get_by_role("link", name=re.compile("Flint")).wait_for()
    # submitting an incomplete application answers 422 with the page listing what is missing: expected
    intended = "Failed to load resource: the server responded with a status of 422"
    assert [p for p in problems if intended not in p] == [], problems
