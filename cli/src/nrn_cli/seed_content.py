"""What `nrn up --seed` loads: demo people, 311 questions with their memos, library resources and
clearinghouse programs. Data only; `nrn_cli.seed` puts it in through the public API.

Everything here is demo content. People and cities' questions are made up; the library items carry
the source "NRN demo content"; the clearinghouse describes real, long-standing federal programs in
general terms, tagged as demo entries whose terms and deadlines must be checked at the source.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

DEMO_SOURCE = "NRN demo content"
DEMO_TAG = "demo content"
DEMO_EMAIL_DOMAIN = "demo.nrn.example"  # .example: reserved (RFC 2606), never delivered; accounts refuses .localhost
DEMO_NOTE = ("> **NRN demo content.** Written for the platform's demo data set: examples are described in "
             "general terms and are not an official NRN publication.")

# --- people -------------------------------------------------------------------------------------------

STAFF: list[dict[str, Any]] = [
    {"key": "program_manager", "label": "program manager", "name": "Morgan Ellis", "title": "Program Manager, 311 for Cities",
     "roles": ["program_manager"]},
    {"key": "triage_lead", "label": "triage lead", "name": "Jordan Reyes", "title": "Triage Lead",
     "roles": ["triage_lead"]},
    {"key": "finance_expert", "label": "expert: finance and budgets", "name": "Priya Natarajan",
     "title": "Senior Advisor, Municipal Finance", "roles": ["subject_matter_expert"],
     "expertise": ["finance_budgets", "economic_development"]},
    {"key": "housing_expert", "label": "expert: housing", "name": "Marcus Bell",
     "title": "Senior Advisor, Housing and Land Use", "roles": ["subject_matter_expert"],
     "expertise": ["housing", "land_use"]},
    {"key": "curator", "label": "library curator", "name": "Elena Park", "title": "Knowledge Manager",
     "roles": ["curator"]},
    {"key": "reviewer_a", "label": "application reviewer", "name": "Alex Kim", "title": "Senior Reviewer",
     "roles": ["reviewer"]},
    {"key": "reviewer_b", "label": "application reviewer", "name": "Sam Ortiz", "title": "Reviewer",
     "roles": ["reviewer"]},
]

# `city` is an index into the cities the seed picks from the eligible list (0 and 1 get verified
# officials; 2 gets the official whose account waits for verification).
OFFICIALS: list[dict[str, Any]] = [
    {"key": "official_a", "name": "Dana Whitfield", "title": "Deputy Mayor", "city": 0, "verify": True},
    {"key": "official_b", "name": "Luis Ortega", "title": "Director of Budget and Finance", "city": 1, "verify": True},
    {"key": "official_pending", "name": "Renee Carter", "title": "Planning Director", "city": 2, "verify": False},
]


# A partner organization with its webhook administrator: its pages (/partner/webhooks) are reachable at
# once; an endpoint is the partner's own to register (a receiver of theirs, e.g. examples/webhooks).
PARTNER = {"name": "Great Lakes Community Development Consortium (demo)", "kind": "consortium_member",
           "administrator": "Morgan Reyes", "title": "Data and partnerships lead"}


def demo_email(name: str) -> str:
    return f"{name.lower().replace(' ', '.')}@{DEMO_EMAIL_DOMAIN}"


# --- 311 memos ----------------------------------------------------------------------------------------

MEMO_BUDGET = """## Question

The city asked how to close a recurring general fund gap, now close to six percent of annual spending,
without deep cuts to police, fire, sanitation and parks, and how other cities of similar size have
restored structural balance over several years rather than through one-time fixes such as selling
assets, skipping pension contributions or drawing reserves down to nothing.

## Short answer

Treat the gap as a multi-year problem and close it with a plan, not with a single budget. Cities that
recovered did three things together. They built a five-year forecast that made the gap visible and
separated one-time items from recurring ones. They combined several modest measures — collecting
revenue already owed, recovering the cost of services through fees, a few targeted efficiency projects,
and steady management of pension and health-care costs — instead of relying on one large cut. And they
adopted reserve and debt policies that lock in the gains. A realistic target is to close about a third
of the gap in each of the next three budgets while rebuilding reserves toward two months of spending.

## Options, with examples from other cities

**1. Make a multi-year forecast the center of the budget.** The Government Finance Officers Association
(GFOA) recommends long-term financial planning with a forecast of at least five years. Several cities
that emerged from state financial oversight in Michigan and Pennsylvania made the forecast a standing
document presented with every budget, so council members could see how each decision moved the
out-years. A forecast also exposes structural drivers that a one-year budget hides, such as wage
settlements that grow faster than the property tax base, or a capital backlog that turns into
emergency repairs.

**2. Collect the revenue already owed.** Before raising rates, many cities find one to two percent of
general fund revenue in items that are owed but not collected: delinquent income or property taxes,
unbilled or under-billed utility accounts, outdated business license rolls, and permit and inspection
fees set many years ago. A cost-of-service fee study that compares what a service costs with what is
charged often supports adjusting fees for development review, repeated false alarms and special events.
That shifts cost to the people who use a service rather than to every taxpayer.

**3. Pursue targeted efficiency, not across-the-board cuts.** Across-the-board cuts tend to erode first
the services residents notice most. Cities have had better results with a small number of specific
projects: consolidating emergency dispatch with a neighboring jurisdiction or the county, shared
purchasing through cooperative contracts, right-sizing the vehicle fleet, and energy-performance
contracts that pay for lighting and building upgrades from guaranteed savings. Each project should have
an owner, a savings estimate, a start date and a report back to council.

**4. Manage the long-term cost drivers.** Pension and retiree health care are often the fastest-growing
items. Options include paying the full actuarially determined contribution every year, moving retiree
health care to a defined stipend at the next bargaining round, and considering a pension obligation bond
only after a careful analysis of its risks — several cities regretted bonds issued shortly before market
downturns. Plan-design changes to active employees' health care, or joining a larger purchasing pool,
can slow growth without sharp cuts in coverage.

**5. Adopt policies that keep the gains.** A written fund balance policy (GFOA's guidance is no less than
two months of regular general fund spending), a rule that one-time revenue pays only for one-time costs,
and a debt affordability policy give the council a framework for saying no to short-term fixes. Rating
agencies look for these policies, and a stronger rating lowers the cost of borrowing for the capital
plan.

**6. Consider new revenue last, and ask voters clearly.** Once collections, fees and efficiency measures
are under way, some cities have asked voters for a dedicated, time-limited levy for a specific purpose
— street repair or public safety equipment, for example — with an annual public report on how the money
is spent. Voters are more willing to approve a measure when the city can show what it has already done
to control costs, and a sunset date keeps the promise credible.

## Resources

- GFOA best practices on long-term financial planning, fund balance and structural balance, with
  worksheets a small finance office can adapt.
- The state's local government finance or municipal assistance office, which in several states reviews
  multi-year plans and offers technical help at no cost.
- The NRN library's guide to multi-year financial forecasting and its case study of a mid-sized city's
  five-year recovery plan.
- Peer finance directors in cities that completed recovery plans, whom NRN can introduce on request.

This memo is NRN demo content: the examples are described in general terms, and any program or
policy named here should be checked at its source before use.

## Next steps

1. Within a month, build or update a five-year forecast with the current budget as the base year,
   separating one-time and recurring items on both sides of the ledger.
2. Commission a fee and collections review, starting with fees that have not been updated in five years
   and with the largest delinquent accounts.
3. Choose two or three efficiency projects, each with a named owner and a savings target for the next
   budget.
4. Draft fund balance, one-time revenue and debt policies for council adoption alongside the next budget.
5. Schedule a call with NRN to walk through the forecast template and to meet a peer finance director.
"""

MEMO_VACANT_LOTS = """## Question

The city holds about six hundred vacant lots and one hundred and fifty vacant structures that came to it
through tax foreclosure. It asked how to reduce the cost of mowing, securing and demolishing them, how to
return as many as possible to productive use, and how to avoid selling them to speculators who let them
deteriorate further or hold them without paying taxes.

## Short answer

Set up a disposition system before selling anything. That means an inventory that classifies every
parcel, a land bank or a city land-disposition program with written policies, and a set of end uses
matched to each neighborhood's market: side-lot sales to neighbors, greening and stormwater uses,
rehabilitation sales with owner-occupancy or affordability conditions, and assembly of sites for larger
development. Cities that did this cut maintenance costs, put parcels back on the tax roll and kept
control over who buys, through buyer vetting and conditions that return a property to the city when a
buyer does not perform.

## Options, with examples from other cities

**1. A land bank.** More than a dozen states have land bank enabling laws. The Genesee County Land Bank
in Michigan, which serves Flint, was one of the first modern land banks; the Cuyahoga County Land
Reutilization Corporation in Ohio is funded in part from penalties and interest on delinquent property
taxes; Detroit's land bank runs side-lot, auction and rehabilitation programs at a large scale. A land
bank can hold property without paying taxes on it, clear title, and choose buyers on the strength of
their plans rather than on price alone. Where a state has no enabling law, a city can run a
land-disposition program from its own departments or through a nonprofit partner under contract.

**2. Side-lot sales.** Offering vacant lots to the owner-occupant next door for a nominal price moves
many parcels quickly, ends the city's maintenance cost for each one and puts the lot back on the tax
roll. Cleveland and Detroit have sold thousands of side lots this way. A simple application, a flat
price and a short deed restriction against resale for a few years keep the program fair and easy to
run.

**3. Greening and stormwater.** Where demand for building is weak, a low-cost treatment — clearing
debris, grading, planting grass and a few trees, and a low wooden fence — stabilises a block for a small
share of the cost of mowing and enforcement over the years. A randomised study in Philadelphia
associated greened lots with fewer reports of gun violence nearby. Lots in low areas can be used for
rain gardens or bioswales that count towards the sewer utility's stormwater obligations, which may pay
for part of the work.

**4. Rehabilitation sales with conditions.** Vacant houses that are structurally sound can be sold to
owner-occupants or to vetted local developers with a development agreement: rehabilitation within twelve
to eighteen months, inspection before occupancy, and a reverter clause that returns the property if the
work is not done. Buyer vetting should check for tax delinquency and open code violations on other
properties the buyer owns. Down-payment help from HOME or CDBG funds can widen the pool of owner-occupant
buyers.

**5. Site assembly.** Clusters of parcels near a commercial corridor, a school or a transit stop can be
held together and offered through a request for proposals for larger development, with the city's
priorities — affordable units, local hiring, ground-floor retail — written into the selection criteria.

**6. Paying for the program.** Land banks in several states receive a share of the property taxes on
the parcels they sell for a number of years after the sale, which rewards returning property to the tax
roll. Others are funded through county treasurers' delinquent-tax penalties, CDBG funds for eligible
acquisition, clearance and disposition, or state demolition and blight programs. Whatever the source,
a multi-year operating budget matters more than a one-time grant: the inventory, maintenance and sales
work is continuous, and a program that runs out of money after two years leaves the city with the
same parcels and fewer staff to manage them.

**7. Fixing the pipeline.** The number of parcels the city receives each year depends on the county's
tax foreclosure process. Cities that worked with the county treasurer to offer payment plans to
owner-occupants, and to steer abandoned properties quickly to the land bank instead of to the tax
auction, reduced both the number of occupied homes lost and the number of parcels bought at auction by
speculators who never pay the next year's taxes.

## Resources

- The Center for Community Progress, a national nonprofit that advises cities and states on land banks,
  tax foreclosure reform and vacant property strategy.
- The state's land bank enabling law, if there is one, and the county treasurer's foreclosure calendar.
- HUD's CDBG rules on eligible acquisition, clearance and disposition activities.
- The NRN library's land bank start-up toolkit and its research brief on greening vacant lots.

This memo is NRN demo content: the examples are described in general terms, and every program named
here should be checked at its source before use.

## Next steps

1. Build a parcel inventory with condition, ownership history, liens and a market classification for
   each block within the next two months.
2. Decide between a land bank, where state law allows one, and a city disposition program; draft
   written disposition policies for council.
3. Launch a side-lot program first: it needs the least capital and shows results quickly.
4. Ask the sewer utility which vacant lots could count towards its stormwater plans.
5. Book the follow-up call offered below to walk through the inventory template with NRN's housing
   advisor.
"""

MEMO_STOREFRONTS = """## Question

The city asked how other cities structure a storefront improvement grant for small businesses on its two
older commercial corridors: how much to offer, what to require of applicants, how to pay for the
program, and how to keep it simple enough that owners without accountants or architects can use it.

## Short answer

Most successful programs are matching grants that reimburse part of the cost of visible exterior work
— signs, lighting, windows, doors, awnings and façade repairs — up to a fixed cap per property, with a
short application, basic design guidelines and free design help. Payment comes after the work is
inspected. Programs are usually paid for with Community Development Block Grant funds in eligible
areas, tax increment or special district revenue, or the general fund, and they work best when they are
part of a wider corridor plan rather than a one-off. A first round of fifteen to twenty-five storefronts on a
few blocks, rather than a thin spread across both corridors, tends to show results that attract private
investment and the next round of applicants.

## Options, with examples from other cities

**1. The matching grant.** The common model reimburses half of eligible costs up to a cap, often between
ten and fifty thousand dollars per storefront, with a higher cap for corner buildings or multiple
storefronts. Philadelphia's long-running storefront improvement program follows this pattern.
Matching keeps owners invested in the result and stretches a small budget across more storefronts. Some
cities raise the match to seventy-five or even ninety percent in the first year on a target block, to
create a visible cluster of improvements quickly.

**2. Free design assistance.** Many owners cannot pay an architect before knowing whether they will be
funded. Cities that pair the grant with a few hours of free design help from a contracted architect or a
university design center get better results and fewer rejected applications. Design guidelines should be
short: a page or two of photographs showing what is encouraged (clear windows, lighting, repaired
cornices) and what is not (solid roll-down shutters, window coverings that block the view inside).

**3. A simple process.** Successful programs keep the application to a few pages, accept applications
on a rolling basis, decide within a few weeks, and publish a checklist of the documents needed for
reimbursement. Tenants should be able to apply with the owner's written consent, since many small
businesses rent their space. A small working-capital advance, or direct payment to contractors, helps
owners who cannot front the whole cost.

**4. Paying for the program.** CDBG funds can pay for façade improvements in low- and moderate-income
areas or to address blight, with federal requirements — environmental review, and for larger projects,
prevailing wages — that add time and should be explained to applicants at the start. Tax increment
districts and business improvement districts often fund programs on their own corridors. Some cities
combine a modest general fund allocation with a partner bank's or a community development financial
institution's low-interest loan for owners who need more than the grant.

**5. Measuring results.** Track vacancy on the corridor, the number of storefronts improved, private
money leveraged per public dollar, and simple before-and-after photographs. These measures help renew
funding and make the case to the next group of owners.

**6. Part of a corridor strategy.** A storefront grant alone rarely changes a corridor. Cities that saw
lasting results paired it with a few other modest measures: a small-business liaison who helps owners
through permits and inspections, a vacant storefront registry or temporary "pop-up" leases to fill
empty spaces, coordinated street cleaning and lighting, and events that bring people to the corridor.
A business association or a Main Street organization often carries this work with a small amount of
city support, and keeps owners engaged between grant rounds.

**7. Avoiding common problems.** Programs run into trouble when reimbursement takes months, when
owners discover federal requirements only after signing contracts, or when design review becomes a
second permit process. Publishing a target time for each step, holding a short orientation for approved
applicants, and having one staff member accompany each project from application to payment avoid most
of these problems. It also helps to decide in advance what happens when a business closes soon after the
work: most programs secure the grant with a simple agreement that is forgiven after three to five years
of operation.

## Resources

- The NRN library's report on small-business storefront programs and their design choices.
- The state's Main Street coordinating program, where one exists, which often offers free design help.
- HUD's CDBG guidance on eligible economic development and façade activities.
- Local community development financial institutions able to pair loans with the grant.

This memo is NRN demo content: the examples are described in general terms, and any program named here
should be checked at its source before use.

## Next steps

1. Walk both corridors with business owners to list the storefronts most in need and the main obstacles.
2. Choose a funding source and confirm its rules, especially for CDBG-funded work.
3. Draft a two-page application, a one-page design guide and a reimbursement checklist.
4. Contract a designer for free design consultations before the first application round.
5. Launch with a target block to create a visible cluster of improvements in the first year.
"""

# --- 311 questions ------------------------------------------------------------------------------------

# `target` is the status the seed brings the question to; `official` asks it; `expert` drafts the memo.
QUESTIONS: list[dict[str, Any]] = [
    {
        "key": "budget_gap", "official": "official_a", "expert": "finance_expert", "target": "closed",
        "title": "How can we close a recurring budget gap without cutting core services?",
        "question": "Our general fund has run a deficit of about 6% of spending for three years and we have "
                    "used most of our reserves. How have other cities our size restored structural balance "
                    "without deep cuts to police, fire, sanitation and parks?",
        "context": "Population about 90,000; pension costs have grown faster than revenue; council wants a "
                   "plan before the next budget.",
        "desired_outcome": "A multi-year plan the council can adopt with the next budget.",
        "topic": "finance_budgets", "urgency": "soon", "consent": "anonymous",
        "memo": MEMO_BUDGET,
        "call_summary": "Walked through the five-year forecast template and the fee review; agreed to meet a peer "
                        "finance director.",
        "next_steps": ["Finance director drafts the five-year forecast", "NRN introduces a peer finance director",
                       "Council workshop on reserve policy"],
        "feedback": {"rating": 5, "comment": "Clear, practical and fast. The forecast template alone saved us weeks."},
    },
    {
        "key": "vacant_lots", "official": "official_b", "expert": "housing_expert", "target": "memo_delivered",
        "title": "What can we do with hundreds of tax-foreclosed vacant lots?",
        "question": "The city now owns about 600 vacant lots and 150 vacant houses through tax foreclosure. "
                    "Mowing and demolition cost us more every year. How can we return them to productive use "
                    "without selling to speculators?",
        "context": "Our state has a land bank law but the county has never used it.",
        "desired_outcome": "A disposition approach we can present to council this year.",
        "topic": "housing", "urgency": "routine", "consent": "anonymous",
        "memo": MEMO_VACANT_LOTS,
    },
    {
        "key": "storefronts", "official": "official_a", "expert": "finance_expert", "target": "memo_in_review",
        "title": "How do other cities structure a storefront improvement grant?",
        "question": "We want a small grant to help businesses on two older commercial corridors fix façades, "
                    "signs and lighting. How much do other cities offer, what do they require, and how do "
                    "they pay for it?",
        "topic": "economic_development", "urgency": "routine", "consent": "named",
        "memo": MEMO_STOREFRONTS,
    },
    {
        "key": "lead_lines", "official": "official_b", "expert": "finance_expert", "target": "assigned",
        "title": "Which programs can pay for replacing our lead service lines?",
        "question": "Our water utility estimates 8,000 lead service lines. Which federal and state programs "
                    "can pay for replacement without raising water rates beyond what residents can bear?",
        "topic": "finance_budgets", "urgency": "soon", "consent": "anonymous",
    },
    {
        "key": "main_street_safety", "official": "official_a", "target": "awaiting_information",
        "title": "How can we pay for a safer design of our main street?",
        "question": "Our main street is a state route with four lanes and frequent crashes. How have other "
                    "cities paid for road diets, crossings and lighting on roads they do not own?",
        "topic": "transportation", "urgency": "routine", "consent": "anonymous",
        "information_request": "Could you tell us the route number, the length of the stretch you have in mind, "
                               "and whether the state transportation department has a project planned there?",
    },
    {
        "key": "broadband_gaps", "official": "official_b", "target": "submitted",
        "title": "How do we find out which neighborhoods lack affordable broadband?",
        "question": "Residents tell us service is poor and expensive in several neighborhoods, but the maps we "
                    "have show everyone covered. How have other cities measured the gap?",
        "topic": "broadband", "urgency": "routine", "consent": "named",
    },
]

# --- library ------------------------------------------------------------------------------------------


def _body(*paragraphs: str) -> str:
    return "\n\n".join((DEMO_NOTE, *paragraphs)) + "\n"


RESOURCES: list[dict[str, Any]] = [
    {
        "type": "guide", "title": "Multi-year financial forecasting for small finance offices",
        "summary": "How a finance office of three to five people can build and maintain a five-year general "
                   "fund forecast, separate one-time from recurring items, and use it in budget debates.",
        "topics": ["finance_budgets", "government_operations"], "publication_date": "2025-03-14",
        "tags": ["forecasting", "structural balance", "budget"],
        "body": _body(
            "## Why forecast\n\nA one-year budget can balance while the next three years do not. A forecast shows "
            "the council how today's decisions move the out-years and exposes structural drivers such as wage "
            "settlements, pension contributions and a growing capital backlog.",
            "## Building the first forecast\n\nStart from the adopted budget. Project each major revenue from its "
            "own driver (assessed values, employment, rates) and each major expense from contracts and "
            "actuarial reports. Mark every one-time item. Keep assumptions on one page that the council can read.",
            "## Keeping it alive\n\nUpdate the forecast twice a year, present it with the budget, and show the "
            "gap with and without proposed measures. Compare actual results with last year's forecast to "
            "improve the assumptions."),
    },
    {
        "type": "toolkit", "title": "Land bank start-up toolkit: policies, priorities and disposition",
        "summary": "Templates and checklists for a city or county starting a land bank or a land-disposition "
                   "program: inventory fields, disposition policies, side-lot applications and buyer vetting.",
        "topics": ["housing", "land_use"], "publication_date": "2025-05-02",
        "tags": ["land bank", "vacant property", "tax foreclosure", "side lots"],
        "body": _body(
            "## Inside the toolkit\n\n- A parcel inventory template: condition, liens, ownership history, market "
            "classification.\n- Model disposition policies with priorities by end use.\n- A one-page side-lot "
            "application and a flat-price schedule.\n- A buyer-vetting checklist (tax delinquency, code "
            "violations, past performance).\n- A development agreement outline with a reverter clause.",
            "## How to use it\n\nAdapt the policies to the state's enabling law, if any, and have the city "
            "attorney review the deed restrictions. Start with side lots: they need the least capital and "
            "show results within months."),
    },
    {
        "type": "case_study", "title": "A mid-sized city's five-year recovery plan",
        "summary": "How a Midwestern city of about 100,000 people closed a structural deficit over five budgets "
                   "with a forecast, a fee review, shared dispatch and a reserve policy — without layoffs of "
                   "police or firefighters.",
        "topics": ["finance_budgets"], "publication_date": "2024-11-20",
        "tags": ["structural deficit", "recovery plan", "shared services"],
        "body": _body(
            "## Situation\n\nFour years of deficits had drawn the reserve below two weeks of spending and the "
            "city's bond rating had been lowered twice.",
            "## What the city did\n\nIt adopted a five-year forecast, raised development fees to cost after a "
            "fee study, merged emergency dispatch with the county, paid its full pension contribution every "
            "year and adopted a reserve floor of two months of spending.",
            "## Results\n\nThe gap closed over five budgets; reserves reached the policy floor in year four and "
            "the rating outlook turned positive. The city is a composite written for the demo data set."),
    },
    {
        "type": "report", "title": "Small-business storefront programs: design choices and results",
        "summary": "A review of matching-grant storefront programs: grant sizes, match rates, design help, "
                   "funding sources and how cities measure results on their corridors.",
        "topics": ["economic_development"], "publication_date": "2025-06-30",
        "tags": ["storefronts", "main street", "small business", "façade grants"],
        "body": _body(
            "## Findings\n\nMost programs reimburse half of eligible exterior costs up to a cap; free design "
            "help raises the quality of projects and lowers rejection rates; rolling applications and quick "
            "decisions matter more to owners than the size of the grant.",
            "## Funding\n\nCDBG in eligible areas, tax increment or improvement-district revenue, and general "
            "funds are the common sources; each brings its own rules, which should be explained at the start.",
            "## Measuring\n\nCorridor vacancy, storefronts improved, private money leveraged per public dollar, "
            "and before-and-after photographs."),
    },
    {
        "type": "guide", "title": "Mapping broadband gaps with public data",
        "summary": "How to combine the FCC's National Broadband Map, Census data on home internet subscriptions "
                   "and a simple resident speed test to find neighborhoods where service is missing or "
                   "unaffordable.",
        "topics": ["broadband"], "publication_date": "2025-02-10",
        "tags": ["broadband", "digital equity", "mapping", "speed test"],
        "body": _body(
            "## Three sources\n\n1. The FCC National Broadband Map shows reported availability by location.\n"
            "2. The Census Bureau's American Community Survey shows household internet subscriptions by tract.\n"
            "3. A resident speed-test and cost survey shows what people actually get and pay.",
            "## Reading them together\n\nWhere the map shows service but subscriptions are low, cost or "
            "adoption is the likely barrier; where speed tests fall far below advertised speeds, availability "
            "may be overstated and can be challenged through the FCC's process."),
    },
    {
        "type": "toolkit", "title": "Quick-build street safety projects on a budget",
        "summary": "Low-cost, fast materials and steps for safer crossings, narrower lanes and protected bike "
                   "lanes, including how to work with the state when the street is a state route.",
        "topics": ["transportation", "public_safety"], "publication_date": "2025-04-18",
        "tags": ["complete streets", "road diet", "traffic safety", "quick build"],
        "body": _body(
            "## Quick-build basics\n\nPaint, flexible posts, planters and temporary curbs let a city test a "
            "road diet or a safer crossing within weeks, measure speeds and crashes, and make the design "
            "permanent later.",
            "## State routes\n\nAsk the state transportation department about its resurfacing schedule: "
            "restriping during planned resurfacing costs little. A maintenance agreement can let the city pay "
            "for and maintain crossings on a state route."),
    },
    {
        "type": "case_study", "title": "A regional workforce partnership with a community college",
        "summary": "How a small city, its community college and three manufacturers built a short-term training "
                   "program for maintenance technicians with guaranteed interviews for graduates.",
        "topics": ["workforce", "economic_development"], "publication_date": "2024-09-05",
        "tags": ["workforce", "community college", "manufacturing", "sector partnership"],
        "body": _body(
            "## The partnership\n\nEmployers defined the skills, the college designed a sixteen-week evening "
            "program, and the workforce board paid tuition for eligible residents.",
            "## What made it work\n\nEmployer commitments to interview every graduate, classes held in the "
            "evening, and childcare and transport help for students. The city is a composite written for the "
            "demo data set."),
    },
    {
        "type": "report", "title": "Financing lead service line replacement in mid-sized water systems",
        "summary": "The financing options open to a mid-sized water utility for replacing lead service lines: "
                   "state revolving fund loans with principal forgiveness, local ordinances, and sequencing by "
                   "risk.",
        "topics": ["health", "finance_budgets"], "publication_date": "2025-08-12",
        "tags": ["lead service lines", "drinking water", "state revolving fund"],
        "body": _body(
            "## Sources of money\n\nThe Drinking Water State Revolving Fund, administered by each state, offers "
            "low-interest loans and, for disadvantaged communities, principal forgiveness. Some states add their "
            "own grants.",
            "## Sequencing\n\nFinish the service line inventory first; replace lines at schools, childcare "
            "centers and homes with young children early; replace the private side together with the public "
            "side to avoid partial replacements."),
    },
    {
        "type": "policy_analysis", "title": "Code enforcement that helps owners repair",
        "summary": "Why some cities pair code enforcement with repair help — low-interest loans, grants for "
                   "low-income owners, and receivership for abandoned buildings — and what that changes for "
                   "neighborhoods.",
        "topics": ["housing", "government_operations"], "publication_date": "2025-01-22",
        "tags": ["code enforcement", "home repair", "receivership"],
        "body": _body(
            "## The problem with fines alone\n\nOwners who cannot afford repairs accumulate fines and liens, and "
            "the house declines further. Enforcement that starts with an offer of help resolves more cases.",
            "## Tools\n\nHome repair grants and loans for low-income owner-occupants; payment plans; and, for "
            "abandoned buildings, court-appointed receivers who repair and recover costs where state law allows."),
    },
    {
        "type": "research", "title": "Greening vacant lots and neighborhood safety: what the research says",
        "summary": "A short summary of research on low-cost vacant lot greening, including a randomised trial in "
                   "Philadelphia, and what it suggests for cities with many vacant parcels.",
        "topics": ["land_use", "public_safety", "health"], "publication_date": "2024-12-03",
        "tags": ["vacant lots", "greening", "public safety", "research summary"],
        "body": _body(
            "## The evidence\n\nA randomised trial in Philadelphia associated cleaning and greening vacant lots "
            "with fewer reports of gun violence nearby, and residents near greened lots reported feeling safer.",
            "## Implications\n\nGreening costs a fraction of years of mowing and enforcement, can be done by "
            "local contractors, and can be combined with stormwater uses."),
    },
    {
        "type": "guide", "title": "Working with hospitals' community health needs assessments",
        "summary": "How city health and planning staff can use the community health needs assessments that "
                   "nonprofit hospitals must prepare, and join the implementation strategies that follow.",
        "topics": ["health"], "publication_date": "2025-07-08",
        "tags": ["community health", "hospitals", "needs assessment"],
        "body": _body(
            "## What they are\n\nNonprofit hospitals prepare a community health needs assessment every three years "
            "and adopt a strategy to meet the needs it identifies.",
            "## How a city can take part\n\nShare city data (housing conditions, crashes, heat), ask to sit on "
            "the steering group, and propose projects — home repairs, safe routes, healthy food — that the "
            "hospital's strategy can support."),
    },
]

# --- clearinghouse ------------------------------------------------------------------------------------

DEMO_PROGRAM_NOTES = ("Demo entry (NRN demo content): eligibility is summarized in general terms; confirm current "
                      "rules, funding and deadlines at the agency's site before relying on it.")
DEMO_PROGRAM_TAGS = ["demo entry", "check deadline at source"]
DEMO_DEADLINE_LABEL = "Next application deadline (demo date: check the source)"


def programs(today: date) -> list[dict[str, Any]]:
    """Real, well-known federal technical-assistance programs in general terms. Deadlines are demo
    dates in the future relative to ``today``: the real ones must be checked at the source."""

    def due(days: int) -> list[dict[str, str]]:
        return [{"label": DEMO_DEADLINE_LABEL, "due": (today + timedelta(days=days)).isoformat()}]

    def eligibility(**kw: Any) -> dict[str, Any]:
        return {"entity_kinds": kw.pop("entity_kinds", ["city", "county"]), "notes": DEMO_PROGRAM_NOTES, **kw}

    return [
        {
            "agency": "HUD", "sub_agency": "Office of Community Planning and Development",
            "name": "HUD Community Compass Technical Assistance",
            "summary": "HUD's integrated technical-assistance program: HUD-selected providers help grantees "
                       "plan, manage and report on HUD programs such as CDBG, HOME and homelessness assistance.",
            "help_given": ["technical_assistance", "capacity_building", "training"],
            "help_details": "Needs assessments, on-site and remote coaching, tools and training on HUD program "
                            "rules, financial management and capacity.",
            "topics": ["housing", "government_operations", "economic_development"],
            "eligibility": eligibility(entity_kinds=["city", "county", "state", "tribe", "nonprofit"]),
            "how_to_apply": "Grantees ask for help through the HUD Exchange technical-assistance request portal "
                            "or their HUD field office.",
            "rolling": True, "url": "https://www.hudexchange.info/programs/community-compass/",
            "contact": "HUD Exchange technical-assistance desk", "tags": [*DEMO_PROGRAM_TAGS, "CDBG", "HOME"],
        },
        {
            "agency": "HUD", "sub_agency": "Office of Community Planning and Development",
            "name": "HUD Section 108 Loan Guarantee Program",
            "summary": "Lets CDBG entitlement communities borrow against future CDBG allocations to finance "
                       "economic development, housing rehabilitation, public facilities and large projects.",
            "help_given": ["loans", "financing"],
            "help_details": "Federally guaranteed loans for eligible CDBG activities; HUD staff help structure "
                            "applications.",
            "topics": ["economic_development", "housing", "finance_budgets"],
            "eligibility": eligibility(),
            "how_to_apply": "Talk to the HUD field office, then submit an application with a CDBG action plan "
                            "amendment.",
            "rolling": True, "url": "https://www.hudexchange.info/programs/section-108/",
            "contact": "HUD Section 108 program office", "tags": [*DEMO_PROGRAM_TAGS, "CDBG", "loan guarantee"],
        },
        {
            "agency": "EDA", "sub_agency": "Economic Development Administration",
            "name": "EDA Economic Adjustment Assistance",
            "summary": "Flexible grants that help communities plan and carry out responses to economic shocks, "
                       "such as plant closures or the loss of a major employer, and long-term economic decline.",
            "help_given": ["grants", "planning", "technical_assistance"],
            "help_details": "Strategy development, technical assistance, infrastructure and revolving loan funds.",
            "topics": ["economic_development", "workforce"],
            "eligibility": eligibility(entity_kinds=["city", "county", "state", "tribe", "nonprofit",
                                                     "regional_body"], requires_distress=True),
            "how_to_apply": "Contact the EDA regional office's economic development representative, then apply "
                            "under the current notice of funding opportunity.",
            "rolling": True, "url": "https://www.eda.gov/funding/programs/economic-adjustment-assistance",
            "contact": "EDA regional office", "tags": [*DEMO_PROGRAM_TAGS, "economic shock"],
        },
        {
            "agency": "DOT", "sub_agency": "Office of the Secretary",
            "name": "DOT Thriving Communities Program",
            "summary": "Technical assistance, planning and capacity-building support for under-resourced "
                       "communities to plan and deliver transportation and community revitalisation projects.",
            "help_given": ["technical_assistance", "capacity_building", "planning"],
            "help_details": "Multi-year support from capacity-building providers: project planning, grant "
                            "applications, engagement and delivery.",
            "topics": ["transportation", "economic_development", "land_use"],
            "eligibility": eligibility(entity_kinds=["city", "county", "tribe", "regional_body", "nonprofit"]),
            "how_to_apply": "Communities submit a letter of interest during the program's application window.",
            "rolling": False, "deadlines": due(75), "url": "https://www.transportation.gov/grants/thriving-communities",
            "contact": "DOT Thriving Communities program office", "tags": [*DEMO_PROGRAM_TAGS, "capacity building"],
        },
        {
            "agency": "EPA", "sub_agency": "Office of Brownfields and Land Revitalization",
            "name": "EPA Brownfields Assessment and Cleanup Grants",
            "summary": "Grants to assess and clean up contaminated or potentially contaminated properties and "
                       "return them to productive use, with free technical assistance to brownfield communities.",
            "help_given": ["grants", "technical_assistance"],
            "help_details": "Assessment, cleanup and revolving loan fund grants; technical assistance through "
                            "EPA-funded providers.",
            "topics": ["land_use", "economic_development", "health"],
            "eligibility": eligibility(entity_kinds=["city", "county", "state", "tribe", "regional_body",
                                                     "nonprofit"]),
            "how_to_apply": "Apply in the annual national competition; EPA regional brownfields coordinators "
                            "answer questions before the deadline.",
            "rolling": False, "deadlines": due(60), "url": "https://www.epa.gov/brownfields",
            "contact": "EPA regional brownfields coordinator", "tags": [*DEMO_PROGRAM_TAGS, "brownfields"],
        },
        {
            "agency": "EPA", "sub_agency": "Office of Water",
            "name": "EPA Environmental Finance Centers (water technical assistance)",
            "summary": "A network of university and nonprofit centers that help communities find and apply for "
                       "funding for drinking water, wastewater and stormwater projects, including lead service "
                       "line replacement.",
            "help_given": ["technical_assistance", "capacity_building", "training"],
            "help_details": "Help with funding applications, asset management, rate studies and lead service "
                            "line inventories.",
            "topics": ["health", "finance_budgets"],
            "eligibility": eligibility(entity_kinds=["city", "county", "tribe", "utility"]),
            "how_to_apply": "Request assistance through EPA's water technical assistance request form.",
            "rolling": True, "url": "https://www.epa.gov/waterfinancecenter/efc",
            "contact": "EPA water technical assistance", "tags": [*DEMO_PROGRAM_TAGS, "lead service lines"],
        },
        {
            "agency": "USDA", "sub_agency": "Rural Development",
            "name": "USDA Rural Development Community Facilities Direct Loan and Grant Program",
            "summary": "Loans and grants for essential community facilities in rural areas, such as health "
                       "clinics, public safety buildings and equipment, libraries and community centers.",
            "help_given": ["loans", "grants"],
            "help_details": "Low-interest direct loans, loan guarantees and grants for construction, equipment "
                            "and improvements.",
            "topics": ["health", "public_safety", "government_operations"],
            "eligibility": eligibility(entity_kinds=["city", "county", "tribe", "nonprofit"],
                                       max_population=20_000, rural_only=True),
            "how_to_apply": "Talk to the USDA Rural Development state office; applications are accepted year-round.",
            "rolling": True,
            "url": "https://www.rd.usda.gov/programs-services/community-facilities/community-facilities-direct-loan-grant-program",
            "contact": "USDA Rural Development state office", "tags": [*DEMO_PROGRAM_TAGS, "rural"],
        },
        {
            "agency": "Treasury", "sub_agency": "Community Development Financial Institutions Fund",
            "name": "Treasury CDFI Fund programs",
            "summary": "Funding and training for community development financial institutions that lend and "
                       "invest in low-income communities; cities partner with local CDFIs for small-business "
                       "and housing finance.",
            "help_given": ["financing", "training", "capacity_building"],
            "help_details": "Financial and technical assistance awards to certified CDFIs; the New Markets Tax "
                            "Credit program; capacity-building training.",
            "topics": ["economic_development", "housing", "finance_budgets"],
            "eligibility": eligibility(entity_kinds=["nonprofit"]),
            "how_to_apply": "Certified CDFIs apply in the fund's annual rounds; cities work through local CDFI "
                            "partners.",
            "rolling": False, "deadlines": due(120), "url": "https://www.cdfifund.gov/",
            "contact": "CDFI Fund help desk", "tags": [*DEMO_PROGRAM_TAGS, "CDFI", "small business"],
        },
        {
            "agency": "HHS", "sub_agency": "Administration for Children and Families, Office of Community Services",
            "name": "HHS Community Economic Development Program",
            "summary": "Grants to community development corporations for projects that create jobs and business "
                       "opportunities for people with low incomes.",
            "help_given": ["grants", "technical_assistance"],
            "help_details": "Project grants to community development corporations, with technical assistance to "
                            "grantees.",
            "topics": ["economic_development", "workforce", "health"],
            "eligibility": eligibility(entity_kinds=["nonprofit"]),
            "how_to_apply": "Community development corporations apply under the annual notice of funding "
                            "opportunity.",
            "rolling": False, "deadlines": due(95),
            "url": "https://www.acf.hhs.gov/ocs/programs/community-economic-development",
            "contact": "HHS Office of Community Services", "tags": [*DEMO_PROGRAM_TAGS, "CDC", "jobs"],
        },
        {
            "agency": "NTIA", "sub_agency": "BroadbandUSA",
            "name": "NTIA BroadbandUSA technical assistance (BEAD and digital equity)",
            "summary": "Technical assistance for communities planning broadband expansion and digital equity "
                       "work, including how to take part in their state's BEAD program.",
            "help_given": ["technical_assistance", "planning", "data_tools"],
            "help_details": "Guides, webinars and one-on-one help on broadband planning, mapping and working "
                            "with the state broadband office.",
            "topics": ["broadband"],
            "eligibility": eligibility(entity_kinds=["city", "county", "state", "tribe", "nonprofit"]),
            "how_to_apply": "Contact BroadbandUSA; BEAD subgrants are run by each state's broadband office on its "
                            "own schedule.",
            "rolling": False, "deadlines": due(45), "url": "https://broadbandusa.ntia.gov/",
            "contact": "NTIA BroadbandUSA", "tags": [*DEMO_PROGRAM_TAGS, "BEAD", "digital equity"],
        },
    ]


# --- peer network -------------------------------------------------------------------------------------

CONVENING = {"title": "NRN Peer Convening 2027 (demo)"}
REGISTRATION = {"role": "Attendee", "dietary_needs": "", "accessibility_needs": "", "session_ids": ["opening"]}
INTRODUCTION_REASON = ("Both cities are closing structural budget gaps while their populations shrink; NRN staff "
                       "suggest they compare what they tried.")


def convening(today: date) -> dict[str, Any]:
    """The demo convening, 60 days ahead in Chattanooga (Central time), one place so that the second
    demo official is on the waitlist; registration open from today for 45 days."""
    day = today + timedelta(days=60)
    return {
        "kind": "annual_convening", "title": CONVENING["title"], "topics": ["economic_development"],
        "description": "A day of peer learning for city leaders: what worked, what did not, and who to call.",
        "venue": "Chattanooga Convention Center", "address": "1150 Carter St, Chattanooga, TN 37402",
        "timezone": "America/Chicago", "starts_at": f"{day}T08:30:00", "ends_at": f"{day}T17:00:00",
        "capacity": 1, "per_city_limit": 2,
        "registration_opens_at": f"{today - timedelta(days=1)}T09:00:00",
        "registration_closes_at": f"{today + timedelta(days=45)}T17:00:00",
        "sessions": [
            {"id": "opening", "title": "Opening plenary: ten years of peer learning", "starts_at": f"{day}T09:00:00",
             "ends_at": f"{day}T10:00:00", "track": "Plenary", "speakers": ["NRN director"]},
            {"id": "budgets", "title": "Structural balance without one-time fixes", "starts_at": f"{day}T10:30:00",
             "ends_at": f"{day}T12:00:00", "track": "Finance", "room": "Room A"},
            {"id": "broadband", "title": "Broadband Working Group roundtable", "starts_at": f"{day}T13:30:00",
             "ends_at": f"{day}T15:00:00", "track": "Infrastructure", "room": "Room B"},
        ],
    }


GROUPS: list[dict[str, Any]] = [
    {"kind": "working_group", "name": "Broadband Working Group (demo)", "topics": ["broadband"],
     "purpose": "Cities closing their digital divide together, with subject-matter support from federal partners.",
     "deliverable": {"title": "Practical resource guide to broadband (demo)",
                     "summary": "Steps any city can take to map coverage and fund connections.",
                     "body": "# Practical resource guide to broadband\n\n1. Map coverage block by block.\n"
                             "2. Find the households without a connection.\n3. Combine federal digital equity "
                             "grants with local partners.\n"}},
    {"kind": "steering_committee", "name": "Peer Steering Committee", "topics": [],
     "purpose": "City representatives who steer NRN's peer learning."},
    {"kind": "working_group", "name": "Peer Health Group (demo)", "topics": ["health"],
     "purpose": "Cities comparing their health measures with their peers' and choosing what the dashboards show."},
]
PEER_HEALTH_GROUP = "Peer Health Group (demo)"

# --- municipal health data (illustrative: made-up values, marked so wherever shown) ----------------------

HEALTH_SOURCE = "illustrative demo value"
HEALTH_YEARS = (2019, 2020, 2021, 2022, 2023)
# measure -> (low, high) of the made-up values, within what the measure can be; the group's demo choice
HEALTH_MEASURES: dict[str, tuple[float, float]] = {
    "life_expectancy": (70.0, 79.0), "obesity": (28.0, 45.0), "diabetes": (9.0, 18.0),
    "high_blood_pressure": (28.0, 42.0), "smoking": (14.0, 28.0), "physical_inactivity": (20.0, 38.0),
    "uninsured": (6.0, 20.0), "dental_care": (45.0, 65.0), "children_in_poverty": (20.0, 50.0),
    "unemployment": (4.0, 12.0), "violent_crime": (300.0, 1800.0), "park_access": (40.0, 95.0),
}


def health_value(city_id: str, measure: str, year: int) -> float:
    """A made-up but stable value: the same city, measure and year always give the same figure (so a
    second seed changes nothing), drifting a little from year to year."""
    import hashlib

    low, high = HEALTH_MEASURES[measure]
    digest = hashlib.sha256(f"{city_id}|{measure}".encode()).digest()
    base = low + (high - low) * digest[0] / 255
    drift = (high - low) * 0.02 * ((digest[1] % 5) - 2) * (year - HEALTH_YEARS[0])
    return round(min(high, max(low, base + drift)), 1)


def health_csv(cities: list[dict[str, Any]]) -> bytes:
    """The demo values of every city, one row per city, measure and year (the import's long format)."""
    import csv
    import io

    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["city", "state", "fips", "measure", "year", "value", "source"])
    for c in cities:
        for measure in HEALTH_MEASURES:
            for year in HEALTH_YEARS:
                w.writerow([c["name"], c["state"], c.get("fips_place_code") or c.get("fips") or "", measure, year,
                            health_value(c["city_id"], measure, year), HEALTH_SOURCE])
    return out.getvalue().encode()


# --- direct technical assistance ----------------------------------------------------------------------

ROUND = {"name": "Direct assistance round (demo)", "capacity": 2}


def application_form(today: date, variant: str) -> dict[str, Any]:
    """A complete application of a demo city (made-up people; the barriers are common ones)."""
    start = (today + timedelta(days=45)).isoformat()
    if variant == "a":
        return {
            "background": {"lead_official_name": "Dana Whitfield", "lead_official_title": "Deputy Mayor",
                           "sponsor_name": "Mayor Chris Alvarez", "sponsor_title": "Mayor",
                           "sponsor_commitment": "The mayor commits the deputy mayor and the planning director for the "
                                                 "whole engagement, and will bring the resulting plan to council.",
                           "stakeholders": ["County land bank", "Community foundation", "Downtown business alliance"]},
            "economic_challenges": {"barriers": {
                "housing": "About one home in seven is vacant; demolitions lag the new vacancies each year.",
                "land_use": "Zoning from the 1960s blocks infill housing on the lots the land bank holds."}},
            "project_management": {"manager_name": "Avery Chen", "manager_title": "Planning Director",
                                   "manager_email": f"avery.chen@{DEMO_EMAIL_DOMAIN}", "timeline_months": 9,
                                   "desired_start": start, "local_match": "commit",
                                   "local_match_source": "The community development block grant's planning line."},
            "peer_connections": True,
        }
    return {
        "background": {"lead_official_name": "Luis Ortega", "lead_official_title": "Director of Budget and Finance",
                       "sponsor_name": "Taylor Brooks", "sponsor_title": "City Manager",
                       "sponsor_commitment": "The city manager commits the finance department's analysts and a "
                                             "monthly steering meeting with the department heads.",
                       "stakeholders": ["Chamber of commerce", "Regional workforce board"]},
        "economic_challenges": {"barriers": {
            "government_operations_budgets": "A recurring general fund gap near six percent of spending.",
            "workforce": "Employers report unfilled skilled jobs while unemployment stays above nine percent."}},
        "project_management": {"manager_name": "Luis Ortega", "manager_title": "Director of Budget and Finance",
                               "manager_email": f"luis.ortega@{DEMO_EMAIL_DOMAIN}", "timeline_months": 6,
                               "desired_start": start, "local_match": "hardship",
                               "hardship_reason": "The city is under state fiscal oversight and cannot commit new "
                                                  "cash this year; it offers staff time in kind."},
        "peer_connections": True,
    }


# The sponsor's letter of commitment attached to each demo application (a one-page PDF).
SPONSOR_LETTER = (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages "
                  b"/Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")

ENGAGEMENT = {
    "terms": {"title": "Vacant housing and infill zoning (demo)", "budget_cents": 18_000_000, "duration_months": 9,
              "scope": "A land bank disposition strategy and an infill zoning amendment, with the county land bank."},
    "assessment": {"barriers": [{"barrier": "housing", "findings": "Vacancy is concentrated in three older wards."},
                                {"barrier": "land_use", "findings": "Minimum lot sizes block most infill lots."}],
                   "strengths": ["An active county land bank", "A council majority for infill housing"],
                   "summary": "Two days on site with the planning department and the land bank (demo)."},
    "milestones": [("Vacancy and parcel inventory", "City planning department", 60),
                   ("Land bank disposition strategy", "NRN housing expert", 150),
                   ("Infill zoning amendment drafted", "City planning department", 240)],
    "update": "The parcel inventory is done; the land bank has shared its holdings (demo).",
}


# --- the pro bono talent network (made-up organizations and people; addresses under example.org) -----------
#
# Three partner organizations, each with its pro bono coordinator and volunteers (confirmed by that
# coordinator). Each person's email is at their organization's own example.org domain (RFC 2606: reserved,
# never delivered). Projects: `city` is the demo official (their city) that posts it; `target` how far the
# seed takes it: "submitted" (waiting for NRN's review) or "open" (reviewed and open). Matches: `target`
# "proposed" (offered by NRN, both sides still to answer) or "accepted" (both accepted, with `hours` logged
# on the days given as days before today; `approved` the entries the city approved).

PROBONO_ORGANIZATIONS: list[dict[str, Any]] = [
    {"key": "riverbend", "name": "Riverbend Analytics (demo)", "sector": "company",
     "domain": "riverbend-analytics.example.org",
     "description": "A made-up data consultancy lending its analysts to cities (demo organization).",
     "coordinator": {"name": "Tessa Moreland", "title": "Community Partnerships Manager"},
     "volunteers": [
         {"key": "nadia", "name": "Nadia Brooks", "title": "Senior Data Analyst", "skills": ["analytics", "blight"],
          "hours_per_month": 20, "work_mode": "either", "base_city": "Detroit", "base_state": "MI",
          "experience": "Built parcel-level vacancy maps for two county land banks (demo profile).",
          "phone": "313-555-0142"},
         {"key": "owen", "name": "Owen Castillo", "title": "GIS Specialist",
          "skills": ["analytics", "urban_planning"], "hours_per_month": 12, "work_mode": "remote",
          "experience": "Maps zoning, transit and parcel data for regional planners (demo profile).",
          "phone": "313-555-0178"},
     ]},
    {"key": "lakeshore", "name": "Lakeshore State University (demo)", "sector": "university",
     "domain": "lakeshore-state.example.org",
     "description": "A made-up public university whose faculty give their expertise to nearby cities (demo).",
     "coordinator": {"name": "Gabriel Okafor", "title": "Director of Civic Engagement"},
     "volunteers": [
         {"key": "hannah", "name": "Hannah Lindqvist", "title": "Professor of Public Finance",
          "skills": ["finance", "communications"], "hours_per_month": 10, "work_mode": "remote",
          "experience": "Advised three cities on multi-year budget forecasts (demo profile).",
          "phone": "616-555-0111"},
         {"key": "marcus", "name": "Marcus Feld", "title": "Emergency Management Lecturer",
          "skills": ["emergency_management", "project_management"], "hours_per_month": 15, "work_mode": "either",
          "base_city": "Grand Rapids", "base_state": "MI",
          "experience": "Ran county emergency operations drills for ten years (demo profile).",
          "phone": "616-555-0163"},
     ]},
    {"key": "harborlight", "name": "Harbor Light Foundation (demo)", "sector": "foundation",
     "domain": "harborlight-foundation.example.org",
     "description": "A made-up community foundation whose staff help cities win and manage grants (demo).",
     "coordinator": {"name": "Imani Caldwell", "title": "Program Officer"},
     "volunteers": [
         {"key": "rosa", "name": "Rosa Delgado", "title": "Grants Manager",
          "skills": ["grant_writing", "finance"], "hours_per_month": 8, "work_mode": "remote",
          "experience": "Wrote federal infrastructure grant applications worth $40 million (demo profile).",
          "phone": "414-555-0190"},
     ]},
]

PROBONO_PROJECTS: list[dict[str, Any]] = [
    {"key": "vacant_lots", "city": "official_a", "target": "open", "department": "Planning and Development",
     "title": "Vacant lot inventory",
     "problem": "Map every vacant lot on the north side with its owner, condition and tax status, so the land "
                "bank can plan its next two years (demo project).",
     "skills": ["analytics", "blight"], "hours_needed": 40, "starts_days": -21, "days": 120,
     "work_mode": "either", "on_site_needs": "Walk a sample of north side lots once to check the data."},
    {"key": "budget_story", "city": "official_a", "target": "open", "department": "Finance",
     "title": "A budget residents can read",
     "problem": "Turn next year's budget into a short, plain-language guide with charts for residents and "
                "council (demo project).",
     "skills": ["finance", "communications"], "hours_needed": 24, "starts_days": 7, "days": 90,
     "work_mode": "remote", "on_site_needs": ""},
    {"key": "lead_lines", "city": "official_a", "target": "submitted", "department": "Public Works",
     "title": "Grant application for lead service line replacement",
     "problem": "Prepare the city's application for federal lead service line replacement funds, with the "
                "inventory the program asks for (demo project).",
     "skills": ["grant_writing", "engineering"], "hours_needed": 30, "starts_days": 14, "days": 75,
     "work_mode": "remote", "on_site_needs": ""},
    {"key": "eop", "city": "official_b", "target": "open", "department": "Emergency Management",
     "title": "Refresh the emergency operations plan",
     "problem": "Update the city's emergency operations plan after the last flood and plan a tabletop "
                "exercise with the departments (demo project).",
     "skills": ["emergency_management", "project_management"], "hours_needed": 36, "starts_days": 10,
     "days": 120, "work_mode": "either", "on_site_needs": "Run one tabletop exercise at city hall."},
]

PROBONO_MATCHES: list[dict[str, Any]] = [
    {"project": "vacant_lots", "volunteer": "nadia", "target": "accepted", "hours_agreed": 30,
     "hours": [(12, 6.0, "Cleaned the county parcel file and joined the tax records (demo)."),
               (5, 4.5, "Mapped wards 1 and 2 with owners and condition (demo).")],
     "approved": 1},
    {"project": "budget_story", "volunteer": "hannah", "target": "proposed", "hours_agreed": 20},
]


def probono_email(org: dict[str, Any], name: str) -> str:
    return f"{name.lower().replace(' ', '.')}@{org['domain']}"
